//! Every `ServiceError` variant maps to its status, stable code and a TMF630 body.

use axum::http::header;
use axum::response::IntoResponse;
use q2c_model::tmf::QuoteState;
use q2c_service::ServiceError;
use q2c_service::ports::StoreError;
use serde_json::Value;

use super::reply;
use crate::error::{ApiError, JSON_UTF8};

fn variants() -> Vec<(ServiceError, u16, &'static str)> {
    vec![
        (
            ServiceError::InvalidInput {
                path: Some("quoteItem[0].quantity".into()),
                message: "must be positive".into(),
            },
            400,
            "INVALID_INPUT",
        ),
        (
            ServiceError::InvalidConfiguration {
                code: "UNKNOWN_CHARACTERISTIC",
                message: "product offering po-1 has no characteristic `turbo`".into(),
                path: "quoteItem[0].product.productCharacteristic[0].name".into(),
            },
            400,
            "UNKNOWN_CHARACTERISTIC",
        ),
        (
            ServiceError::ForbiddenField {
                field: "quoteTotalPrice".into(),
            },
            400,
            "FORBIDDEN_FIELD",
        ),
        (
            ServiceError::MissingScope {
                scope: q2c_service::Scope::QuoteApprove,
            },
            403,
            "MISSING_SCOPE",
        ),
        (
            ServiceError::NotFound {
                resource: "Quote",
                id: "q1".into(),
            },
            404,
            "NOT_FOUND",
        ),
        (
            ServiceError::IllegalTransition {
                from: "accepted".into(),
                to: "inProgress".into(),
                allowed: "none: it is final".into(),
            },
            409,
            "ILLEGAL_TRANSITION",
        ),
        (
            ServiceError::QuoteExpired {
                valid_until: time::macros::datetime!(2026-01-01 0:00 UTC),
            },
            409,
            "QUOTE_EXPIRED",
        ),
        (
            ServiceError::NotUpdatable {
                state: QuoteState::Approved,
            },
            409,
            "NOT_UPDATABLE",
        ),
        (
            ServiceError::Conflict {
                message: "accepted quotes stay".into(),
            },
            409,
            "CONFLICT",
        ),
        (
            ServiceError::VersionMismatch {
                expected: 1,
                current: 2,
            },
            412,
            "VERSION_MISMATCH",
        ),
        (
            ServiceError::BusinessRule {
                code: "OFFERING_NOT_SELLABLE",
                message: "offering po-1 is not sellable".into(),
                path: Some("quoteItem[0].productOffering.id".into()),
            },
            422,
            "OFFERING_NOT_SELLABLE",
        ),
        (
            ServiceError::Unavailable(StoreError::Backend("db password=hunter2".into())),
            503,
            "UNAVAILABLE",
        ),
    ]
}

async fn body_of(error: ApiError) -> (u16, Value, String) {
    let reply = reply(error.into_response()).await;
    let content_type = reply.headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(reply.body.is_object(), "a JSON body: {:?}", reply.body);
    (reply.status.as_u16(), reply.body, content_type)
}

#[tokio::test]
async fn every_service_error_has_its_status_code_and_body() {
    for (error, status, code) in variants() {
        let (got, body, content_type) = body_of(ApiError::from(error)).await;
        assert_eq!(got, status, "{code}");
        assert_eq!(body["code"], code);
        assert_eq!(body["status"], status.to_string());
        assert!(
            body["reason"].is_string() && body["message"].is_string(),
            "{code}"
        );
        let reference = format!("/docs/errors.md#{}", code.to_ascii_lowercase());
        assert!(
            body["referenceError"]
                .as_str()
                .expect("a string")
                .ends_with(&reference)
        );
        assert_eq!(content_type, JSON_UTF8);
    }
}

#[tokio::test]
async fn messages_name_the_json_path_and_hide_store_details() {
    let (_, invalid, _) = body_of(variants().remove(0).0.into()).await;
    assert_eq!(
        invalid["message"],
        "quoteItem[0].quantity: must be positive"
    );
    let (_, unavailable, _) = body_of(variants().pop().expect("503").0.into()).await;
    assert!(
        !unavailable["message"]
            .as_str()
            .expect("a message")
            .contains("hunter2")
    );
}

#[test]
fn every_error_code_is_documented() {
    let doc = include_str!("../../../../docs/errors.md");
    let mut codes: Vec<String> = variants()
        .into_iter()
        .map(|(_, _, c)| c.to_owned())
        .collect();
    codes.retain(|c| c != "OFFERING_NOT_SELLABLE");
    codes.extend(
        [
            "MALFORMED_JSON",
            "INVALID_QUERY",
            "INVALID_HEADER",
            "UNAUTHORIZED",
            "ROUTE_NOT_FOUND",
            "METHOD_NOT_ALLOWED",
            "IDEMPOTENCY_IN_PROGRESS",
            "IDEMPOTENCY_KEY_REUSED",
            "PAYLOAD_TOO_LARGE",
            "UNSUPPORTED_MEDIA_TYPE",
            "INVALID_PATCH",
            "PATCH_TEST_FAILED",
            "PATCH_CONFLICT",
            "PATCH_RESULT_INVALID",
            "INTERNAL_ERROR",
            "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            "MISSING_CHARACTERISTIC",
            "TOO_MANY_CHARACTERISTIC_VALUES",
            "OFFERING_NOT_SELLABLE",
            "OFFERING_NOT_VALID",
        ]
        .map(String::from),
    );
    for code in codes {
        let anchor = format!("<a id=\"{}\"></a>", code.to_ascii_lowercase());
        assert!(doc.contains(&anchor), "docs/errors.md lacks {anchor}");
    }
}
