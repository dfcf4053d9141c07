//! Who is calling: bearer tokens verified here (`Jwt`) or by API Gateway's JWT authorizer
//! (`TrustedContext`), turned into a `RequestContext` once per request by [`Caller`].

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use q2c_service::{RequestContext, Scope, TenantId};
use serde_json::{Map, Value};

use crate::AppState;
use crate::correlation::{CorrelationId, accept_or_generate};
use crate::error::ApiError;

/// Claims already verified by API Gateway's JWT authorizer; the Lambda entry point inserts
/// them as a request extension (from lambda_http's request context).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifiedClaims(pub Map<String, Value>);

/// How requests are authenticated.
///
/// Build the JWT variant with [`Authenticator::jwt`].
pub enum Authenticator {
    /// Verify `Authorization: Bearer` tokens locally.
    Jwt(Box<JwtVerifier>),
    /// Trust the [`VerifiedClaims`] extension; a request without it is 401.
    TrustedContext {
        /// Name of the tenant claim (usually `tenant`).
        tenant_claim: String,
    },
}

/// The key a [`JwtVerifier`] checks signatures with.
pub enum JwtKey {
    /// HS256 shared secret.
    Hs256Secret(Vec<u8>),
    /// RS256 public key, PEM.
    Rs256PublicPem(Vec<u8>),
}

/// Verifies tokens: signature (one algorithm only, never `none`), `exp` required, `nbf`,
/// issuer and audience.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    tenant_claim: String,
    /// How to get a token this verifier accepts (appended to signature and expiry errors).
    hint: Option<String>,
}

impl JwtVerifier {
    /// A verifier accepting tokens of `issuer` for `audience`; the tenant claim is `tenant`.
    ///
    /// # Errors
    /// The PEM cannot be parsed as an RSA public key.
    pub fn new(
        key: JwtKey,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let (key, algorithm) = match key {
            JwtKey::Hs256Secret(secret) => (DecodingKey::from_secret(&secret), Algorithm::HS256),
            JwtKey::Rs256PublicPem(pem) => (DecodingKey::from_rsa_pem(&pem)?, Algorithm::RS256),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(JwtVerifier {
            key,
            validation,
            tenant_claim: "tenant".to_owned(),
            hint: None,
        })
    }

    /// Reads the tenant from another claim.
    pub fn with_tenant_claim(mut self, claim: impl Into<String>) -> Self {
        self.tenant_claim = claim.into();
        self
    }

    /// Says how to get a token this verifier accepts (e.g. `q2c local`: the `q2c token`
    /// command with its data directory), appended to the 401 of a token signed with another
    /// key or expired.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The token's claims when it verifies.
    ///
    /// # Errors
    /// `ApiError::Unauthorized` naming the problem in words (signed with another key,
    /// expired, wrong issuer, ...), with the hint when one was given.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, ApiError> {
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| ApiError::Unauthorized(self.explain(&e)))
    }

    fn explain(&self, error: &jsonwebtoken::errors::Error) -> String {
        use jsonwebtoken::errors::ErrorKind as K;
        let with_hint = |text: String| match &self.hint {
            Some(hint) => format!("{text}; {hint}"),
            None => text,
        };
        let expected = |values: &Option<std::collections::HashSet<String>>| {
            values
                .iter()
                .flatten()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match error.kind() {
            K::InvalidSignature => with_hint(
                "invalid token: its signature does not match this server's key (it was signed \
                 with another secret or key)"
                    .to_owned(),
            ),
            K::ExpiredSignature => with_hint("invalid token: it has expired (`exp`)".to_owned()),
            K::ImmatureSignature => "invalid token: it is not valid yet (`nbf`)".to_owned(),
            K::InvalidIssuer => format!(
                "invalid token: its issuer (`iss`) is not {}",
                expected(&self.validation.iss)
            ),
            K::InvalidAudience => format!(
                "invalid token: its audience (`aud`) is not {}",
                expected(&self.validation.aud)
            ),
            K::MissingRequiredClaim(claim) => format!("invalid token: it has no `{claim}` claim"),
            K::InvalidAlgorithm => format!(
                "invalid token: it is not signed with {:?}, the only algorithm accepted",
                self.validation
                    .algorithms
                    .first()
                    .copied()
                    .unwrap_or(Algorithm::HS256)
            ),
            K::InvalidToken | K::Base64(_) | K::Json(_) | K::Utf8(_) => {
                "invalid token: the bearer token is not a JWT (header.payload.signature)".to_owned()
            }
            _ => format!("invalid token: {error}"),
        }
    }
}

/// The claims of a development token: `sub` `dev`, `tenant`, `scope` (space-separated),
/// `iss`, `aud`, `iat`, `exp` = now + `ttl`.
fn dev_claims(
    tenant: &str,
    scopes: &[Scope],
    ttl: std::time::Duration,
    issuer: &str,
    audience: &str,
) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let scope: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    serde_json::json!({
        "sub": "dev", "name": "Local developer", "tenant": tenant, "scope": scope.join(" "),
        "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl.as_secs(),
    })
}

/// Issues an HS256 token for local development and tests (claims: `dev_claims`).
pub fn issue_dev_token(
    secret: &[u8],
    tenant: &str,
    scopes: &[Scope],
    ttl: std::time::Duration,
    issuer: &str,
    audience: &str,
) -> String {
    let claims = dev_claims(tenant, scopes, ttl, issuer, audience);
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

/// Issues an RS256 token signed with an RSA private key (PEM), for a `q2c local` that
/// verifies tokens with the matching public key (`--jwt-public-key`); same claims as
/// [`issue_dev_token`].
///
/// # Errors
/// The PEM is not an RSA private key.
pub fn issue_rs256_token(
    private_key_pem: &[u8],
    tenant: &str,
    scopes: &[Scope],
    ttl: std::time::Duration,
    issuer: &str,
    audience: &str,
) -> Result<String, jsonwebtoken::errors::Error> {
    let key = EncodingKey::from_rsa_pem(private_key_pem)?;
    let claims = dev_claims(tenant, scopes, ttl, issuer, audience);
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
}

impl Authenticator {
    /// Local verification with `verifier`.
    pub fn jwt(verifier: JwtVerifier) -> Self {
        Authenticator::Jwt(Box::new(verifier))
    }

    /// Trust API Gateway's [`VerifiedClaims`], reading the tenant from `tenant_claim`.
    pub fn trusted_context(tenant_claim: impl Into<String>) -> Self {
        Authenticator::TrustedContext {
            tenant_claim: tenant_claim.into(),
        }
    }

    /// Verifies the request's credentials and builds its context.
    ///
    /// # Errors
    /// `ApiError::Unauthorized` for a missing, invalid or unusable token.
    pub fn authenticate(
        &self,
        parts: &Parts,
        correlation_id: String,
    ) -> Result<RequestContext, ApiError> {
        match self {
            Authenticator::Jwt(verifier) => {
                let token = bearer(parts)?;
                let claims = verifier.verify(token)?;
                context_from_claims(&claims, &verifier.tenant_claim, correlation_id)
            }
            Authenticator::TrustedContext { tenant_claim } => {
                let claims = parts
                    .extensions
                    .get::<VerifiedClaims>()
                    .ok_or_else(|| ApiError::Unauthorized("no verified claims".to_owned()))?;
                context_from_claims(&claims.0, tenant_claim, correlation_id)
            }
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".to_owned()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".to_owned()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::Unauthorized(
            "Authorization must be `Bearer <token>`".to_owned(),
        )),
    }
}

/// Builds the context from verified claims: `sub`, the tenant claim, `scope` (space
/// separated) or `scp` (array, space-separated, or API Gateway's `[a b]` rendering),
/// optional `name`.
///
/// # Errors
/// `ApiError::Unauthorized` when `sub` or the tenant is missing or the tenant is invalid.
pub fn context_from_claims(
    claims: &Map<String, Value>,
    tenant_claim: &str,
    correlation_id: String,
) -> Result<RequestContext, ApiError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let subject =
        text("sub").ok_or_else(|| ApiError::Unauthorized("token has no `sub`".to_owned()))?;
    let tenant = text(tenant_claim)
        .ok_or_else(|| ApiError::Unauthorized(format!("token has no `{tenant_claim}` claim")))?;
    let tenant = TenantId::parse(tenant).map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let mut scopes = BTreeSet::new();
    for claim in ["scope", "scp"] {
        match claims.get(claim) {
            // API Gateway renders array claims as "[a b]" strings: strip the brackets.
            Some(Value::String(s)) => scopes.extend(
                s.trim_matches(|c| c == '[' || c == ']')
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter_map(Scope::parse),
            ),
            Some(Value::Array(items)) => {
                scopes.extend(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(Scope::parse),
                );
            }
            _ => {}
        }
    }
    Ok(RequestContext {
        tenant,
        subject: subject.to_owned(),
        subject_name: text("name").map(str::to_owned),
        scopes,
        correlation_id,
    })
}

/// The authenticated caller of a request; extracting it verifies the token once.
#[derive(Debug, Clone)]
pub struct Caller(pub RequestContext);

impl Caller {
    /// The context if the caller has `scope`.
    ///
    /// # Errors
    /// `ApiError::MissingScope`.
    pub fn require(&self, scope: Scope) -> Result<&RequestContext, ApiError> {
        if self.0.has(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::MissingScope(scope.as_str()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let correlation_id = match parts.extensions.get::<CorrelationId>() {
            Some(id) => id.0.clone(),
            None => accept_or_generate(parts.headers.get(crate::correlation::X_CORRELATION_ID)),
        };
        let ctx = state.auth.authenticate(parts, correlation_id)?;
        // The tenant's request-rate quota, before any work on the request.
        state.quotas.admit(&ctx.tenant)?;
        Ok(Caller(ctx))
    }
}
