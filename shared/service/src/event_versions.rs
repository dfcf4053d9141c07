//! Versions of the messages q2c publishes and consumes.
//!
//! A message's schema major follows the API major it renders: 4 is the TMF v4 envelope
//! (`timeOcurred`, sic) around the v4 payload, 5 the TMF v5 envelope (`@type` of the event,
//! `timeOccurred`) around the v5 payload. The legacy `1.x` (messages published before
//! versions followed the API, still in queues and DLQs at the upgrade) is an alias of 4, and
//! so is a message without any version.
//!
//! Inside a process every message has one **internal form**: the v4 envelope around the
//! model's serde representation, which the use-cases build ([`crate::events`]) and read
//! ([`crate::messaging::ParsedMessage`]). [`normalise_envelope`] turns a received envelope of
//! an accepted major into it, [`render_envelope`] turns it into the envelope of a major to
//! send. A [`SchemaPolicy`] says which majors a consumer accepts (current and previous) and
//! which one a producer emits.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A message schema major this build reads and writes (serialised as its number). The default
/// is 4: the major of anything stored or sent before versions were recorded (legacy `1.x`,
/// unversioned messages, subscriptions without a version); what producers emit by default is
/// [`SchemaMajor::CURRENT`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
pub enum SchemaMajor {
    /// TMF v4 envelope and payloads (also the legacy `1.x`).
    #[default]
    V4,
    /// TMF v5 envelope and payloads.
    V5,
}

impl SchemaMajor {
    /// The newest major: what producers emit unless configured otherwise.
    pub const CURRENT: SchemaMajor = SchemaMajor::V5;
    /// The major before [`SchemaMajor::CURRENT`], still accepted.
    pub const PREVIOUS: SchemaMajor = SchemaMajor::V4;
    /// What producers emit unless configured otherwise: the previous major, so that a system
    /// integrated on v4 (billing reading `billing-updates`, say) keeps working unchanged after an
    /// upgrade. Operators move to [`SchemaMajor::CURRENT`] (`EVENT_SCHEMA_VERSION=5`) once every
    /// reader of their queues reads it; hub subscribers get the major they registered with
    /// whatever this says.
    pub const DEFAULT_EMIT: SchemaMajor = SchemaMajor::PREVIOUS;

    /// The major number.
    pub const fn number(self) -> u64 {
        match self {
            SchemaMajor::V4 => 4,
            SchemaMajor::V5 => 5,
        }
    }

    /// The `schemaVersion` q2c writes for this major (attribute and envelope field).
    pub const fn version(self) -> &'static str {
        match self {
            SchemaMajor::V4 => "4.0",
            SchemaMajor::V5 => "5.0",
        }
    }

    /// The major of a major number this build knows (1, the legacy alias, is 4).
    pub fn from_number(major: u64) -> Option<SchemaMajor> {
        match major {
            1 | 4 => Some(SchemaMajor::V4),
            5 => Some(SchemaMajor::V5),
            _ => None,
        }
    }

    /// The major of a `schemaVersion` (`4`, `4.0`, `5.1`, `v5`, legacy `1.0`); `None` when it
    /// names no major this build knows.
    pub fn parse(version: &str) -> Option<SchemaMajor> {
        let trimmed = version.trim();
        let digits = trimmed
            .strip_prefix(['v', 'V'])
            .unwrap_or(trimmed)
            .split('.')
            .next()
            .unwrap_or_default();
        digits.parse().ok().and_then(SchemaMajor::from_number)
    }
}

impl From<SchemaMajor> for u64 {
    fn from(major: SchemaMajor) -> u64 {
        major.number()
    }
}

impl TryFrom<u64> for SchemaMajor {
    type Error = String;

    fn try_from(major: u64) -> Result<Self, Self::Error> {
        SchemaMajor::from_number(major).ok_or_else(|| format!("unknown schema major {major}"))
    }
}

/// Parses a configured major to emit (`4`, `5`, `4.0`, `v5`); the legacy `1.x` is read, never
/// written, so it is refused here.
impl std::str::FromStr for SchemaMajor {
    type Err = String;

    fn from_str(setting: &str) -> Result<Self, Self::Err> {
        let legacy = SchemaMajor::parse(setting).is_some()
            && setting
                .trim()
                .trim_start_matches(['v', 'V'])
                .starts_with('1');
        match SchemaMajor::parse(setting) {
            Some(major) if !legacy => Ok(major),
            _ => Err(format!(
                "`{}` is not a schema major to emit (4, 5)",
                setting.trim()
            )),
        }
    }
}

impl std::fmt::Display for SchemaMajor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// Which majors a consumer accepts and which one a producer emits.
///
/// Consumers accept `current` and `previous`, so producers and consumers can be upgraded (or
/// rolled back) one at a time; `emit` is one of the two: a process configured to emit the
/// previous major (`EVENT_SCHEMA_VERSION=4`) still reads what upgraded producers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaPolicy {
    /// The newest accepted major.
    pub current: SchemaMajor,
    /// The major before it, still accepted.
    pub previous: SchemaMajor,
    /// The major this process writes.
    pub emit: SchemaMajor,
}

impl Default for SchemaPolicy {
    fn default() -> Self {
        SchemaPolicy::emitting(SchemaMajor::DEFAULT_EMIT)
    }
}

impl SchemaPolicy {
    /// Accepts [`SchemaMajor::CURRENT`] and [`SchemaMajor::PREVIOUS`], emits `emit`.
    pub fn emitting(emit: SchemaMajor) -> Self {
        SchemaPolicy {
            current: SchemaMajor::CURRENT,
            previous: SchemaMajor::PREVIOUS,
            emit,
        }
    }

    /// The policy of an `EVENT_SCHEMA_VERSION` setting (`4`, `5`, `4.0`, ...; unset: the
    /// default, emitting the current major).
    ///
    /// # Errors
    /// When the setting names a major outside the accepted ones.
    pub fn from_setting(setting: Option<&str>) -> Result<Self, String> {
        let Some(setting) = setting.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(SchemaPolicy::default());
        };
        let policy = SchemaPolicy::default();
        match setting.parse::<SchemaMajor>() {
            Ok(major) if policy.accepts(major) => Ok(SchemaPolicy::emitting(major)),
            _ => Err(format!(
                "EVENT_SCHEMA_VERSION `{setting}` is not one of {}",
                policy.accepted_list()
            )),
        }
    }

    /// Whether consumers under this policy read `major`.
    pub fn accepts(&self, major: SchemaMajor) -> bool {
        major == self.current || major == self.previous
    }

    /// The accepted majors for messages: `4, 5`.
    pub fn accepted_list(&self) -> String {
        if self.current == self.previous {
            self.current.to_string()
        } else {
            let (low, high) = if self.previous < self.current {
                (self.previous, self.current)
            } else {
                (self.current, self.previous)
            };
            format!("{low}, {high}")
        }
    }

    /// The accepted major of a received `schemaVersion` (absent: the legacy unversioned
    /// messages, read as 4).
    ///
    /// # Errors
    /// The poison reason `unsupported schema version X (accepted: 4, 5)`.
    pub fn check(&self, version: Option<&str>) -> Result<SchemaMajor, String> {
        let major = match version {
            None => SchemaMajor::V4,
            Some(version) => SchemaMajor::parse(version)
                .filter(|major| self.accepts(*major))
                .ok_or_else(|| {
                    format!(
                        "unsupported schema version {version} (accepted: {})",
                        self.accepted_list()
                    )
                })?,
        };
        Ok(major)
    }
}

/// The v4 spelling of the time the change happened (sic, as TMF688 v4 writes it).
const TIME_OCCURRED_V4: &str = "timeOcurred";
/// The v5 spelling.
const TIME_OCCURRED_V5: &str = "timeOccurred";
/// The envelope field naming the schema version.
const SCHEMA_VERSION_FIELD: &str = "schemaVersion";

/// A received envelope of `major` in the internal form (the v4 envelope around the model's
/// representation). Fields the internal form does not know are kept, so consumers ignore them
/// and forwarding keeps them. A v4 envelope is returned unchanged.
///
/// # Errors
/// When the payload cannot be read as `major`'s representation.
pub fn normalise_envelope(envelope: Value, major: SchemaMajor) -> Result<Value, String> {
    let Value::Object(mut fields) = envelope else {
        return Err("the envelope is not an object".to_owned());
    };
    if major == SchemaMajor::V5 {
        fields.remove("@type");
        rename(&mut fields, TIME_OCCURRED_V5, TIME_OCCURRED_V4);
        let event_type = event_type(&fields);
        if let Some(payload) = fields.remove("event") {
            fields.insert(
                "event".to_owned(),
                payloads::from_version(&event_type, payload, major)?,
            );
        }
    }
    Ok(Value::Object(fields))
}

/// An internal-form envelope as `major` writes it: `schemaVersion` set to
/// [`SchemaMajor::version`], the payload in `major`'s representation; for v5 also `@type`
/// (the event type) and `timeOccurred`.
pub fn render_envelope(internal: &Value, major: SchemaMajor) -> Value {
    let Value::Object(fields) = internal else {
        return internal.clone();
    };
    let mut fields = fields.clone();
    fields.insert(
        SCHEMA_VERSION_FIELD.to_owned(),
        Value::from(major.version()),
    );
    let event_type = event_type(&fields);
    if let Some(payload) = fields.remove("event") {
        fields.insert(
            "event".to_owned(),
            payloads::to_version(&event_type, payload, major),
        );
    }
    if major == SchemaMajor::V5 {
        rename(&mut fields, TIME_OCCURRED_V4, TIME_OCCURRED_V5);
        if !event_type.is_empty() {
            fields.insert("@type".to_owned(), Value::from(event_type));
        }
    }
    Value::Object(fields)
}

/// The envelope's `eventType` (empty when absent), which selects the payload's mapping.
fn event_type(fields: &Map<String, Value>) -> String {
    fields
        .get("eventType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn rename(fields: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(value) = fields.remove(from) {
        fields.entry(to.to_owned()).or_insert(value);
    }
}

/// The payload (`event`) of each event family per major. Quote payloads (`event.quote`) differ
/// between v4 and v5 and are mapped with `q2c-wire`; the product order, price and fan-out
/// payloads q2c reads and writes are the same in both (the fields we use did not change
/// between the TMF620/TMF622 v4 and v5 resources), so they pass as they are.
mod payloads {
    use q2c_model::tmf::Quote;
    use serde_json::Value;

    use super::SchemaMajor;

    /// The payload key of quote events.
    const QUOTE: &str = "quote";
    /// The quote API bases in hrefs.
    const V4_BASE: &str = "/quoteManagement/v4/";
    const V5_BASE: &str = "/quoteManagement/v5/";

    /// The internal payload as `major` writes it (a quote as `q2c-wire` writes it in that
    /// version). A quote the model cannot read (never one we built) is passed on as it is
    /// rather than dropped.
    pub(super) fn to_version(event_type: &str, mut payload: Value, major: SchemaMajor) -> Value {
        if let Some(quote) = payload.get_mut(QUOTE) {
            let mapped = serde_json::from_value::<Quote>(quote.clone())
                .map(|mut model| {
                    // Events written before catalog hrefs were this server's read with them.
                    crate::hrefs::serve_quote(&mut model);
                    model
                })
                .and_then(|model| match major {
                    SchemaMajor::V4 => q2c_wire::v4::quote_to_v4(&model),
                    SchemaMajor::V5 => q2c_wire::v5::quote_to_v5(&model),
                });
            match mapped {
                Ok(rendered) => *quote = rendered,
                Err(error) => {
                    tracing::warn!(event_type, %major, error.message = %error, "quote payload not mapped; sent as it is");
                }
            }
        }
        payload
    }

    /// A payload of `major` in the internal form.
    pub(super) fn from_version(
        _event_type: &str,
        mut payload: Value,
        major: SchemaMajor,
    ) -> Result<Value, String> {
        if major == SchemaMajor::V4 {
            return Ok(payload);
        }
        if let Some(quote) = payload.get_mut(QUOTE) {
            let mut model = q2c_wire::v5::quote_from_v5(quote.take())
                .map_err(|e| format!("event.quote is not a v5 quote: {e}"))?;
            // `quote_to_v5` moves the href to the v5 base; the model keeps the v4 one.
            model.href = model.href.map(|href| href.replacen(V5_BASE, V4_BASE, 1));
            *quote = serde_json::to_value(model).map_err(|e| format!("event.quote: {e}"))?;
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_name_their_major_and_one_is_an_alias_of_four() {
        for (version, major) in [
            ("4", Some(SchemaMajor::V4)),
            ("4.0", Some(SchemaMajor::V4)),
            ("4.7", Some(SchemaMajor::V4)),
            ("1.0", Some(SchemaMajor::V4)),
            ("1.3", Some(SchemaMajor::V4)),
            ("5.0", Some(SchemaMajor::V5)),
            (" v5 ", Some(SchemaMajor::V5)),
            ("2.0", None),
            ("6.0", None),
            ("five", None),
            ("", None),
        ] {
            assert_eq!(SchemaMajor::parse(version), major, "{version:?}");
        }
    }

    #[test]
    fn the_default_policy_accepts_four_and_five_and_names_them_when_refusing() {
        let policy = SchemaPolicy::default();
        assert_eq!(
            policy.emit,
            SchemaMajor::V4,
            "emits the previous major until configured otherwise"
        );
        assert_eq!(policy.check(Some("4.0")), Ok(SchemaMajor::V4));
        assert_eq!(policy.check(Some("1.0")), Ok(SchemaMajor::V4));
        assert_eq!(policy.check(None), Ok(SchemaMajor::V4));
        assert_eq!(policy.check(Some("5.2")), Ok(SchemaMajor::V5));
        assert_eq!(
            policy.check(Some("6.0")),
            Err("unsupported schema version 6.0 (accepted: 4, 5)".to_owned())
        );
        assert_eq!(
            policy.check(Some("v9")),
            Err("unsupported schema version v9 (accepted: 4, 5)".to_owned())
        );
    }

    #[test]
    fn the_setting_chooses_the_emitted_major_among_the_accepted_ones() {
        assert_eq!(
            SchemaPolicy::from_setting(None),
            Ok(SchemaPolicy::default())
        );
        assert_eq!(
            SchemaPolicy::from_setting(Some("4")).map(|p| p.emit),
            Ok(SchemaMajor::V4)
        );
        assert_eq!(
            SchemaPolicy::from_setting(Some("5.0")).map(|p| p.emit),
            Ok(SchemaMajor::V5)
        );
        for refused in ["1.0", "6", "x"] {
            let error = SchemaPolicy::from_setting(Some(refused)).expect_err(refused);
            assert!(error.contains("4, 5"), "{error}");
        }
    }

    fn internal() -> Value {
        json!({
            "eventId": "e-1",
            "eventTime": "2026-11-27T14:00:00Z",
            "eventType": "QuoteStateChangeEvent",
            "timeOcurred": "2026-11-27T14:00:00Z",
            "schemaVersion": "4.0",
            "event": {"quote": {
                "id": "q-1",
                "href": "/tmf-api/quoteManagement/v4/quote/q-1",
                "state": "approved",
                "externalId": "crm-42",
                "quoteDate": "2026-11-27T14:00:00Z",
                "quoteItem": [{"id": "1", "action": "add", "quantity": 1}],
            }},
            "x-partner": "kept",
        })
    }

    #[test]
    fn a_v5_quote_payload_is_the_v5_representation() {
        let v5 = render_envelope(&internal(), SchemaMajor::V5);
        let quote = &v5["event"]["quote"];
        assert_eq!(quote["creationDate"], "2026-11-27T14:00:00Z");
        assert!(quote.get("quoteDate").is_none());
        assert_eq!(quote["externalId"], json!([{"id": "crm-42"}]));
        assert_eq!(quote["href"], "/tmf-api/quoteManagement/v5/quote/q-1");
        assert_eq!(quote["quoteItem"][0]["action"], "add");
    }

    #[test]
    fn a_quote_payload_stored_with_the_catalogs_hrefs_is_sent_with_its_servers() {
        let mut stored = internal();
        let quote = &mut stored["event"]["quote"];
        quote["href"] = json!("https://api.example.com/tmf-api/quoteManagement/v4/quote/q-1");
        quote["quoteItem"][0]["quoteItemPrice"] = json!([{
            "priceType": "recurring",
            "productOfferingPrice": {"id": "p-1", "href": "https://q2c.example/tmf-api/productCatalogManagement/v4/productOfferingPrice/p-1"},
        }]);
        for major in [SchemaMajor::V4, SchemaMajor::V5] {
            let rendered = render_envelope(&stored, major);
            assert_eq!(
                rendered["event"]["quote"]["quoteItem"][0]["quoteItemPrice"][0]["productOfferingPrice"]
                    ["href"],
                "https://api.example.com/tmf-api/productCatalogManagement/v4/productOfferingPrice/p-1",
                "{major}"
            );
        }
    }

    #[test]
    fn a_v5_quote_payload_that_does_not_map_is_refused() {
        let mut v5 = render_envelope(&internal(), SchemaMajor::V5);
        v5["event"]["quote"]["state"] = json!("teleported");
        let error = normalise_envelope(v5, SchemaMajor::V5).expect_err("refused");
        assert!(error.contains("event.quote"), "{error}");
    }

    #[test]
    fn rendering_v5_renames_the_time_adds_the_type_and_sets_the_version() {
        let v5 = render_envelope(&internal(), SchemaMajor::V5);
        assert_eq!(v5["@type"], "QuoteStateChangeEvent");
        assert_eq!(v5["timeOccurred"], "2026-11-27T14:00:00Z");
        assert!(v5.get("timeOcurred").is_none());
        assert_eq!(v5["schemaVersion"], "5.0");
        assert_eq!(v5["x-partner"], "kept");
        let v4 = render_envelope(&internal(), SchemaMajor::V4);
        assert_eq!(
            v4,
            internal(),
            "v4 of a v4-built event is the internal form"
        );
    }

    #[test]
    fn normalising_undoes_rendering_and_keeps_unknown_fields() {
        for major in [SchemaMajor::V4, SchemaMajor::V5] {
            let mut rendered = render_envelope(&internal(), major);
            rendered["unknownField"] = json!({"nested": true});
            let mut normalised = normalise_envelope(rendered, major).expect("normalised");
            assert_eq!(normalised["unknownField"], json!({"nested": true}));
            normalised
                .as_object_mut()
                .expect("object")
                .remove("unknownField");
            assert_eq!(normalised["event"]["quote"]["externalId"], "crm-42");
            assert_eq!(
                render_envelope(&normalised, SchemaMajor::V4),
                internal(),
                "{major} read back renders the same v4 message"
            );
        }
    }

    #[test]
    fn v4_never_shows_the_identifiers_a_v5_client_kept() {
        let mut stored = internal();
        stored["event"]["quote"]["x-q2c-v5-externalId"] = json!([{"id": "crm-42", "owner": "crm"}]);
        let v4 = render_envelope(&stored, SchemaMajor::V4);
        assert!(v4["event"]["quote"].get("x-q2c-v5-externalId").is_none());
        let v5 = render_envelope(&stored, SchemaMajor::V5);
        assert_eq!(
            v5["event"]["quote"]["externalId"],
            json!([{"id": "crm-42", "owner": "crm"}])
        );
    }
}
