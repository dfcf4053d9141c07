//! The OpenAPI 3.0 document of this surface, served as written (`openapi/tmf648-v4.json`):
//! a superset of the official TMF648 v4 swagger, describing our paths, statuses and headers.

use axum::response::Response;

use crate::routes::json_text;

/// The document, as committed.
pub const DOCUMENT: &str = include_str!("../openapi/tmf648-v4.json");

/// `GET /tmf-api/quoteManagement/v4/openapi.json` (no authentication).
pub async fn document() -> Response {
    json_text(DOCUMENT)
}
