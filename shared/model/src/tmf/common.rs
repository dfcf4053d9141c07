//! Building blocks shared by the TMF resources: references, parties, notes, periods,
//! characteristics, quantities, and the extension map that keeps what we do not model.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::money::decimal_number;

/// Fields of a TMF resource that q2c does not model, kept verbatim so that extensions and
/// subtype-specific properties survive deserialise → serialise.
pub type Extensions = serde_json::Map<String, Value>;

/// The TMF polymorphism triple carried by every resource (`@type`, `@baseType`,
/// `@schemaLocation`). Unknown `@type` values are kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeInfo {
    /// The class of the entity (`@type`), e.g. `Quote` or a subtype such as `FiveGSliceOffering`.
    #[serde(rename = "@type", default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// The super-class (`@baseType`) when `@type` is a subtype.
    #[serde(rename = "@baseType", default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    /// A URI to a JSON schema describing the subtype (`@schemaLocation`).
    #[serde(
        rename = "@schemaLocation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub schema_location: Option<String>,
}

impl TypeInfo {
    /// A `@type` with no base type or schema.
    pub fn of(type_name: &str) -> Self {
        TypeInfo {
            type_name: Some(type_name.to_owned()),
            ..TypeInfo::default()
        }
    }
}

tmf_struct! {
    /// A reference to another entity (TMF `EntityRef` and its named variants such as
    /// `ProductOfferingRef`, `ProductOfferingPriceRef`, `BillingAccountRef`, `QuoteRef`).
    pub struct EntityRef {
        /// Identifier of the referred entity.
        pub id: String,
        /// Hyperlink to the referred entity.
        pub href: Option<String>,
        /// Name of the referred entity.
        pub name: Option<String>,
        /// Class of the referred entity (`@referredType`).
        #[serde(rename = "@referredType")]
        pub referred_type: Option<String>,
    }
}

impl EntityRef {
    /// A reference with just an id.
    pub fn to(id: impl Into<String>) -> Self {
        EntityRef {
            id: id.into(),
            ..EntityRef::default()
        }
    }
}

tmf_struct! {
    /// A party (customer, sales agent, approver) with a role (TMF `RelatedParty`).
    pub struct RelatedParty {
        /// Identifier of the party.
        pub id: String,
        /// Hyperlink to the party.
        pub href: Option<String>,
        /// Name of the party.
        pub name: Option<String>,
        /// Role the party plays (e.g. `customer`, `approver`).
        pub role: Option<String>,
        /// Class of the party (`@referredType`, e.g. `Individual`, `Organization`).
        #[serde(rename = "@referredType")]
        pub referred_type: Option<String>,
    }
}

tmf_struct! {
    /// A free-text note with author and date (TMF `Note`).
    pub struct Note {
        /// Identifier of the note within its resource.
        pub id: Option<String>,
        /// Author of the note.
        pub author: Option<String>,
        /// When the note was written.
        #[serde(with = "time::serde::rfc3339::option")]
        pub date: Option<OffsetDateTime>,
        /// The text.
        #[serde(default)]
        pub text: String,
    }
}

/// A period of validity; an absent end means open-ended (TMF `TimePeriod`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimePeriod {
    /// Start of the period, inclusive.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub start_date_time: Option<OffsetDateTime>,
    /// End of the period, exclusive.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub end_date_time: Option<OffsetDateTime>,
}

impl TimePeriod {
    /// Whether `now` lies in `[start, end)`; missing bounds are open.
    pub fn contains(&self, now: OffsetDateTime) -> bool {
        self.start_date_time.is_none_or(|start| start <= now)
            && self.end_date_time.is_none_or(|end| now < end)
    }
}

tmf_struct! {
    /// A named characteristic value of a product, of any JSON type (TMF `Characteristic`).
    pub struct Characteristic {
        /// Characteristic name, e.g. `dataAllowanceGB`.
        pub name: String,
        /// Data type of the value, as the catalog states it.
        pub value_type: Option<String>,
        /// The value, of any JSON type. `None` only when the characteristic was sent without one
        /// (TMF648 v5 allows it): it stays absent on the wire, while an explicit `null` stays
        /// `null`.
        #[serde(deserialize_with = "present_value")]
        pub value: Option<Value>,
    }
}

/// A present JSON value, `null` included (plain `Option<Value>` would read `null` as absent).
fn present_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// An amount with units, e.g. `{"amount": 1, "units": "GB"}` or a duration of 3 months
/// (TMF `Quantity` and `Duration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantity {
    /// Numeric amount.
    #[serde(with = "decimal_number")]
    pub amount: Decimal,
    /// Unit of the amount (`GB`, `minute`, `month`, ...).
    pub units: String,
}

tmf_struct! {
    /// An approval given or requested on a quote (TMF648 `Authorization`).
    pub struct Authorization {
        /// When the approval was given.
        #[serde(with = "time::serde::rfc3339::option")]
        pub given_date: Option<OffsetDateTime>,
        /// Name of the authorization, e.g. `discountApproval`.
        pub name: Option<String>,
        /// When the approval was requested.
        #[serde(with = "time::serde::rfc3339::option")]
        pub requested_date: Option<OffsetDateTime>,
        /// How the approval was signed, e.g. the approver's token subject.
        pub signature_representation: Option<String>,
        /// State of the approval, e.g. `approved`.
        pub state: Option<String>,
        /// Who approved.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub approver: Vec<RelatedParty>,
    }
}
