//! What API Gateway (HTTP API, payload 2.0) tells the function about a request: the JWT
//! authorizer's verified claims, the public base URL, and the stage prefix of the path.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::Uri;
use lambda_http::request::RequestContext;
use q2c_api::VerifiedClaims;
use serde_json::{Map, Value};

/// The claims API Gateway's JWT authorizer verified, from the request context
/// (`requestContext.authorizer.jwt.claims`); `None` for unauthenticated routes.
pub fn authorizer_claims(context: Option<&RequestContext>) -> Option<VerifiedClaims> {
    let Some(RequestContext::ApiGatewayV2(context)) = context else {
        return None;
    };
    let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
    let claims: Map<String, Value> = jwt
        .claims
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    Some(VerifiedClaims(claims))
}

/// axum middleware: copies the authorizer's claims into the [`VerifiedClaims`] extension
/// that `Authenticator::TrustedContext` reads. A request without them stays without, so
/// it is refused (401) by the routes that need a caller.
pub async fn copy_authorizer_claims(mut request: Request, next: Next) -> Response {
    if let Some(claims) = authorizer_claims(request.extensions().get::<RequestContext>()) {
        request.extensions_mut().insert(claims);
    }
    next.run(request).await
}

/// The named stage of the request (`None` for `$default`).
pub fn stage(context: Option<&RequestContext>) -> Option<&str> {
    match context {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .stage
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "$default"),
        _ => None,
    }
}

/// The public base URL of a request: `https://<Host or domainName>[/<stage>]`.
pub fn public_base_url(request: &lambda_http::Request) -> String {
    let context = request.extensions().get::<RequestContext>();
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| match context {
            Some(RequestContext::ApiGatewayV2(c)) => c.domain_name.clone(),
            _ => None,
        });
    match (host, stage(context)) {
        (Some(host), Some(stage)) => format!("https://{host}/{stage}"),
        (Some(host), None) => format!("https://{host}"),
        (None, _) => String::new(),
    }
}

/// `uri` without a leading `/<stage>` (lambda_http keeps a named stage in the path; the
/// router's routes start at `/tmf-api`).
pub fn strip_stage(uri: &Uri, stage: Option<&str>) -> Option<Uri> {
    let stage = stage?;
    let path = uri.path();
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    Uri::builder().path_and_query(path_and_query).build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_stage_is_stripped_from_the_path() {
        let uri: Uri = "/dev/tmf-api/quoteManagement/v4/quote?limit=1"
            .parse()
            .unwrap();
        let stripped = strip_stage(&uri, Some("dev")).expect("stripped");
        assert_eq!(stripped, "/tmf-api/quoteManagement/v4/quote?limit=1");
        assert!(strip_stage(&uri, Some("de")).is_none());
        assert!(strip_stage(&uri, None).is_none());
    }
}
