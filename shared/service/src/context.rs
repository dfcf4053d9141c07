//! Who is asking: the tenant, the subject and the scopes of a verified token, plus the
//! correlation id carried into every event the request causes.

use std::collections::BTreeSet;
use std::fmt;

/// A tenant (operator business unit or reseller) whose quotes, hubs and orders are
/// partitioned from every other tenant's. Parsed once at the edge, trusted after.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

/// A tenant claim that is empty, too long or has characters outside `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant id `{0}`: 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")]
pub struct InvalidTenantId(pub String);

impl TenantId {
    /// Validates a tenant id. The character set keeps ids safe inside store keys such as
    /// `T#<tenant>#QUOTE#<id>`.
    ///
    /// # Errors
    /// [`InvalidTenantId`] when the id is empty, longer than 64 or has other characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidTenantId> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(TenantId(raw.to_owned()))
        } else {
            Err(InvalidTenantId(raw.to_owned()))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OAuth scope q2c checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read quotes.
    QuoteRead,
    /// Create, change and delete quotes.
    QuoteWrite,
    /// Approve quotes that need approval (discount above the tenant threshold).
    QuoteApprove,
    /// Register and remove hub subscriptions.
    HubWrite,
    /// Read the product catalog.
    CatalogRead,
    /// Send catalog change events to our listener.
    CatalogWrite,
    /// Read product orders.
    OrderRead,
    /// Send product order state changes to our listener.
    OrderWrite,
    /// Read the product inventory (TMF637).
    InventoryRead,
}

impl Scope {
    /// Every scope, for tokens that need them all (local development).
    pub const ALL: [Scope; 9] = [
        Scope::QuoteRead,
        Scope::QuoteWrite,
        Scope::QuoteApprove,
        Scope::HubWrite,
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::OrderRead,
        Scope::OrderWrite,
        Scope::InventoryRead,
    ];

    /// The scope as it appears in a token (`quote.read`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::QuoteRead => "quote.read",
            Scope::QuoteWrite => "quote.write",
            Scope::QuoteApprove => "quote.approve",
            Scope::HubWrite => "hub.write",
            Scope::CatalogRead => "catalog.read",
            Scope::CatalogWrite => "catalog.write",
            Scope::OrderRead => "order.read",
            Scope::OrderWrite => "order.write",
            Scope::InventoryRead => "inventory.read",
        }
    }

    /// Parses a token scope; unknown scopes give `None` (tokens may carry other APIs' scopes).
    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verified caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Tenant from the token's tenant claim.
    pub tenant: TenantId,
    /// Token subject (`sub`), recorded as the approver on approval.
    pub subject: String,
    /// Display name of the subject, when the token has one.
    pub subject_name: Option<String>,
    /// Scopes granted by the token.
    pub scopes: BTreeSet<Scope>,
    /// `X-Correlation-Id` of the request (honoured or generated), carried into events.
    pub correlation_id: String,
}

impl RequestContext {
    /// Whether the token grants `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}
