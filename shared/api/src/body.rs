//! Request bodies: content-type checks, the size limit's rejection, and JSON parsing whose
//! errors name the JSON path at fault.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use q2c_model::limits::{self, Limit, LimitError, MAX_JSON_DEPTH, MAX_REQUEST_BYTES};
use q2c_service::ServiceError;

use crate::error::ApiError;

/// Server-owned quote fields a client may not send on create, even as `null` (the quote
/// service's list, so the edge and the use-case agree).
pub use q2c_service::quotes::SERVER_OWNED_FIELDS as FORBIDDEN_QUOTE_FIELDS;

/// Media types a body may be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// `application/json` only.
    Json,
    /// `application/json` or `application/merge-patch+json`.
    JsonOrMergePatch,
    /// `application/json`, `application/merge-patch+json` or `application/json-patch+json`
    /// (RFC 6902; TMF648 v5).
    MergeOrJsonPatch,
}

/// `application/json-patch+json` (RFC 6902).
pub const JSON_PATCH: &str = "application/json-patch+json";

/// How a PATCH body is to be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    /// A JSON merge patch (RFC 7396); `application/json` is read as one.
    Merge,
    /// A JSON Patch (RFC 6902).
    JsonPatch,
}

/// Checks `Content-Type` (any parameters, e.g. `charset`, are accepted).
///
/// # Errors
/// `ApiError::UnsupportedMediaType` when absent or another type; `MalformedJson` (400) when
/// neither a `Content-Type` nor a body was sent.
pub fn check_content_type(headers: &HeaderMap, accepts: Accepts) -> Result<(), ApiError> {
    patch_format(headers, accepts).map(|_| ())
}

/// Checks `Content-Type` as [`check_content_type`] and says how a PATCH body is applied.
///
/// # Errors
/// `ApiError::UnsupportedMediaType` when absent or another type; `MalformedJson` (400) when
/// neither a `Content-Type` nor a body was sent.
pub fn patch_format(headers: &HeaderMap, accepts: Accepts) -> Result<PatchFormat, ApiError> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = raw
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let merge = essence == "application/json" || essence == "application/merge-patch+json";
    let format = match accepts {
        Accepts::Json => (essence == "application/json").then_some(PatchFormat::Merge),
        Accepts::JsonOrMergePatch => merge.then_some(PatchFormat::Merge),
        Accepts::MergeOrJsonPatch if merge => Some(PatchFormat::Merge),
        Accepts::MergeOrJsonPatch => (essence == JSON_PATCH).then_some(PatchFormat::JsonPatch),
    };
    if let Some(format) = format {
        Ok(format)
    } else if raw.is_empty() && has_no_body(headers) {
        // Nothing sent at all: a malformed request (400, as the TMF documents list for it),
        // not a body of an unsupported type (415).
        Err(ApiError::MalformedJson(
            "the request has no body: send a JSON body".to_owned(),
        ))
    } else {
        let allowed = match accepts {
            Accepts::Json => "application/json",
            Accepts::JsonOrMergePatch => "application/merge-patch+json or application/json",
            Accepts::MergeOrJsonPatch => {
                "application/merge-patch+json, application/json-patch+json or application/json"
            }
        };
        let shown = if raw.is_empty() { "none" } else { raw };
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {shown} is not supported; send {allowed}"
        )))
    }
}

/// Whether the headers announce no body: no `Transfer-Encoding` and no or a zero
/// `Content-Length`.
fn has_no_body(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::TRANSFER_ENCODING)
        && headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == "0")
}

/// Maps a failure to read the body: over the limit (`maxRequestBytes`, enforced while the body
/// streams in, before it is buffered) → 413 naming the limit and what was sent
/// (`Content-Length`, or "more than the limit" for a streamed body), past the body timeout → 408, otherwise 400.
pub fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    headers: &HeaderMap,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let sent = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| *n > limit)
                .unwrap_or(limit.saturating_add(1));
            let configured = Limit {
                value: u64::try_from(limit).unwrap_or(u64::MAX),
                ..MAX_REQUEST_BYTES
            };
            ApiError::Service(ServiceError::Limit(LimitError::new(configured, sent, "$")))
        } else if timed_out(&rejection) {
            ApiError::RequestTimeout
        } else {
            ApiError::MalformedJson(format!("could not read the body: {rejection}"))
        }
    })
}

/// Whether the body failed because the server's body timeout (tower-http's
/// `RequestBodyTimeoutLayer`, `q2c local`) ran out.
fn timed_out(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// Checks a body's JSON depth (`maxJsonDepth`) with a byte scan, before it is parsed.
///
/// # Errors
/// `LIMIT_EXCEEDED` (400) naming the path of the container too deep.
pub fn check_depth(bytes: &[u8]) -> Result<(), ApiError> {
    limits::check_json_text(bytes, MAX_JSON_DEPTH)
        .map(|_| ())
        .map_err(|e| ApiError::Service(ServiceError::Limit(e)))
}

/// Parses a JSON object (too deep → `LIMIT_EXCEEDED`, checked before parsing; syntax errors
/// → `MALFORMED_JSON`; not an object → `INVALID_INPUT`).
///
/// # Errors
/// As above.
pub fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    check_depth(bytes)?;
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::InvalidBody(
            "$: expected a JSON object".to_owned(),
        )),
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    }
}

/// Rejects any server-owned quote field present in the raw object of a create, even `null`
/// (with those set by the server on create, `SERVER_SET_ON_CREATE`).
///
/// # Errors
/// `ApiError::ForbiddenField` naming the first one found.
pub fn reject_forbidden(object: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    match FORBIDDEN_QUOTE_FIELDS
        .iter()
        .chain(q2c_service::quotes::SERVER_SET_ON_CREATE.iter())
        .find(|f| object.contains_key(**f))
    {
        Some(field) => Err(ApiError::ForbiddenField((*field).to_owned())),
        None => Ok(()),
    }
}

/// Deserialises a value into `T`; errors read `path: problem`.
///
/// # Errors
/// `ApiError::InvalidBody`.
pub fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "$".to_owned() } else { path };
        ApiError::InvalidBody(format!("{path}: {}", e.inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_model::tmf::Quote;

    #[test]
    fn a_type_error_names_the_nested_json_path() {
        let value = serde_json::json!({"quoteItem": [{"quantity": "two"}]});
        let err = typed::<Quote>(value).unwrap_err().to_string();
        assert!(
            err.starts_with("quoteItem[0].quantity: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn content_type_with_a_charset_is_json() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "Application/JSON; charset=UTF-8".parse().unwrap(),
        );
        assert!(check_content_type(&headers, Accepts::Json).is_ok());
        headers.insert(
            header::CONTENT_TYPE,
            "application/merge-patch+json".parse().unwrap(),
        );
        assert!(check_content_type(&headers, Accepts::Json).is_err());
        assert!(check_content_type(&headers, Accepts::JsonOrMergePatch).is_ok());
    }
}
