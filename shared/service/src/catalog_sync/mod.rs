//! Catalog import and diff (`q2c catalog import|diff`): a TMF620 export (an array of
//! offerings and prices, or `{productOffering: [...], productOfferingPrice: [...]}`) is
//! validated entry by entry (errors carry the entry's JSON path), compared with what the
//! store holds ([`CatalogVersions`]) and classified created / updated / unchanged / stale.
//! [`plan`] stops there (the diff); [`import`] then carries out the plan.
//!
//! How an import reaches subscribers: for each created or updated entry it first enqueues
//! the TMF620 event the catalog would have sent (`…CreateEvent`, `…AttributeValueChangeEvent`
//! or, for an entry `Retired`/`Obsolete`, `…StateChangeEvent`) on `pricing-changes`, then writes
//! the entry through the same conditional writers as the fan-out. The fan-out consuming the
//! event finds it stored (`AlreadyCurrent`) and does what it does for any catalog change:
//! announces it (billing first) and re-prices or flags open quotes. Enqueueing first means a
//! crash between the two steps loses no announcement (the fan-out applies it itself), and
//! writing directly makes the import's result immediate and its re-run a no-op, even when no
//! consumer runs. Event ids derive from kind, id and `lastUpdate`, so a re-sent event is a
//! duplicate subscribers drop.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use q2c_model::limits::{self, MAX_CATALOG_ENTRY_BYTES, MAX_JSON_DEPTH, TopLevel};
use q2c_model::tmf::{ProductOffering, ProductOfferingPrice};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clock::Clock;
use crate::fanout::{
    ApplyOutcome, EntryInvalid, OfferingCatalogWriter, OfferingChange, PriceCatalogWriter,
    PriceChange, PriceChangeKind, is_retired_status, parse_offering, parse_price,
};
use crate::messaging::{MAX_BATCH, OutgoingMessage, QueueClient, attributes, queues};
use crate::outbox::SCHEMA_VERSION;
use crate::store::StoreError;

/// Offering or price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CatalogKind {
    /// A ProductOffering.
    Offering,
    /// A ProductOfferingPrice.
    Price,
}

impl CatalogKind {
    /// The TMF620 resource name (`ProductOffering`, `ProductOfferingPrice`).
    pub fn resource(self) -> &'static str {
        match self {
            CatalogKind::Offering => "ProductOffering",
            CatalogKind::Price => "ProductOfferingPrice",
        }
    }
}

/// What the store holds for one catalog id, tombstones included.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    /// The id.
    pub id: String,
    /// Its `lastUpdate` (`None` for entries seeded without one).
    pub last_update: Option<OffsetDateTime>,
    /// Whether it is a delete's tombstone.
    pub deleted: bool,
    /// The stored resource as JSON.
    pub body: Value,
}

/// Reads what the catalog copy holds, tombstones included (the import compares with it).
#[async_trait]
pub trait CatalogVersions: Send + Sync {
    /// The stored versions of these ids (absent ids left out, each id once, any order).
    async fn stored_versions(
        &self,
        kind: CatalogKind,
        ids: &[String],
    ) -> Result<Vec<StoredVersion>, StoreError>;
}

/// One valid entry of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogEntry {
    /// An offering.
    Offering(ProductOffering),
    /// A price.
    Price(ProductOfferingPrice),
}

impl CatalogEntry {
    /// Offering or price.
    pub fn kind(&self) -> CatalogKind {
        match self {
            CatalogEntry::Offering(_) => CatalogKind::Offering,
            CatalogEntry::Price(_) => CatalogKind::Price,
        }
    }

    /// The id.
    pub fn id(&self) -> &str {
        match self {
            CatalogEntry::Offering(o) => &o.id,
            CatalogEntry::Price(p) => &p.id,
        }
    }

    fn last_update(&self) -> Option<OffsetDateTime> {
        match self {
            CatalogEntry::Offering(o) => o.last_update,
            CatalogEntry::Price(p) => p.last_update,
        }
    }

    fn lifecycle_status(&self) -> Option<&str> {
        match self {
            CatalogEntry::Offering(o) => o.lifecycle_status.as_deref(),
            CatalogEntry::Price(p) => p.lifecycle_status.as_deref(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            CatalogEntry::Offering(o) => serde_json::to_value(o),
            CatalogEntry::Price(p) => serde_json::to_value(p),
        }
        .unwrap_or(Value::Null)
    }
}

/// A valid entry and where it sits in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedEntry {
    /// JSON path of the entry (`$[3]`, `$.productOffering[17]`).
    pub path: String,
    /// The entry.
    pub entry: CatalogEntry,
    /// Its `lastUpdate` (required).
    pub last_update: OffsetDateTime,
}

/// An invalid entry: its path (down to the field at fault) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// JSON path, e.g. `$.productOffering[17].lastUpdate`.
    pub path: String,
    /// Why.
    pub message: String,
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A catalog file, validated entry by entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFile {
    /// The valid entries, in file order.
    pub entries: Vec<LocatedEntry>,
    /// The invalid ones, in file order.
    pub errors: Vec<EntryError>,
}

/// Parses a catalog file: a JSON array of offerings and prices (told apart by `@type` or
/// `@baseType`, else by shape), or an object with `productOffering` and/or
/// `productOfferingPrice` arrays. Each entry needs an `id` and a `lastUpdate` (the order of
/// changes); an id given twice for the same kind is an error at its second place.
///
/// The file is split into its entries without parsing them, and each entry is checked (size,
/// depth) and parsed on its own, with the validation the TMF620 listener and the price fan-out
/// apply (`parse_price`, `parse_offering`): a bad entry, however large or deep, is an error
/// at its JSON path and never stops the others.
///
/// # Errors
/// When the text is not JSON or not of either shape (nothing can be imported then).
pub fn parse_catalog_file(text: &str) -> Result<CatalogFile, String> {
    let bytes = text.as_bytes();
    let top = limits::split_top_level(bytes).map_err(|e| format!("$: not JSON: {e}"))?;
    let mut file = CatalogFile::default();
    let mut seen: HashMap<(CatalogKind, String), String> = HashMap::new();
    let mut take = |path: String, range: Range<usize>, kind: Option<CatalogKind>| {
        let parsed = parse_raw_entry(&bytes[range]).and_then(|raw| {
            kind.map_or_else(|| kind_of(&raw), Ok)
                .and_then(|kind| parse_entry(&raw, kind))
        });
        match parsed {
            Ok((entry, last_update)) => {
                let key = (entry.kind(), entry.id().to_owned());
                if let Some(first) = seen.get(&key) {
                    file.errors.push(EntryError {
                        path: format!("{path}.id"),
                        message: format!("duplicate {} id (first at {first})", entry.id()),
                    });
                    return;
                }
                seen.insert(key, path.clone());
                file.entries.push(LocatedEntry {
                    path,
                    entry,
                    last_update,
                });
            }
            Err(reason) => file.errors.push(split_reason(&path, &reason)),
        }
    };
    match top {
        TopLevel::Array(ranges) => {
            for (n, range) in ranges.into_iter().enumerate() {
                take(format!("$[{n}]"), range, None);
            }
        }
        TopLevel::Object(members)
            if members
                .iter()
                .any(|(name, _)| name == "productOffering" || name == "productOfferingPrice") =>
        {
            for (field, kind) in [
                ("productOffering", CatalogKind::Offering),
                ("productOfferingPrice", CatalogKind::Price),
            ] {
                match members.iter().find(|(name, _)| name == field) {
                    None => {}
                    Some((_, Some(ranges))) => {
                        for (n, range) in ranges.iter().enumerate() {
                            take(format!("$.{field}[{n}]"), range.clone(), Some(kind));
                        }
                    }
                    Some((_, None)) => return Err(format!("$.{field}: not an array")),
                }
            }
        }
        _ => {
            return Err(String::from(
                "$: expected an array of offerings and prices, or an object with productOffering / productOfferingPrice arrays",
            ));
        }
    }
    Ok(file)
}

/// One entry's text, checked before it is parsed: its compact size and its depth.
fn parse_raw_entry(text: &[u8]) -> Result<Value, String> {
    limits::check_json_entry(text, MAX_CATALOG_ENTRY_BYTES, MAX_JSON_DEPTH)
        .map_err(|e| EntryInvalid::Limit(e).to_string())?;
    serde_json::from_slice(text).map_err(|e| format!(": not JSON: {e}"))
}

/// `<suffix>` is `.field: why` or `: why`: the path part joins the entry's path.
fn split_reason(path: &str, reason: &str) -> EntryError {
    match reason.split_once(": ") {
        Some((suffix, message)) if suffix.is_empty() || suffix.starts_with(['.', '[']) => {
            EntryError {
                path: format!("{path}{suffix}"),
                message: message.to_owned(),
            }
        }
        _ => EntryError {
            path: path.to_owned(),
            message: reason.trim_start_matches(": ").to_owned(),
        },
    }
}

/// Offering or price, from `@type`/`@baseType`, else from fields only one of them has.
fn kind_of(raw: &Value) -> Result<CatalogKind, String> {
    let Some(object) = raw.as_object() else {
        return Err(String::from(": not an object"));
    };
    for field in ["@type", "@baseType"] {
        match object.get(field).and_then(Value::as_str) {
            Some("ProductOffering") => return Ok(CatalogKind::Offering),
            Some("ProductOfferingPrice") => return Ok(CatalogKind::Price),
            _ => {}
        }
    }
    const PRICE_FIELDS: [&str; 5] = [
        "priceType",
        "price",
        "percentage",
        "recurringChargePeriodType",
        "popRelationship",
    ];
    const OFFERING_FIELDS: [&str; 6] = [
        "productOfferingPrice",
        "productSpecification",
        "isSellable",
        "bundledProductOffering",
        "prodSpecCharValueUse",
        "productOfferingTerm",
    ];
    let price = PRICE_FIELDS.iter().any(|f| object.contains_key(*f));
    let offering = OFFERING_FIELDS.iter().any(|f| object.contains_key(*f));
    match (offering, price) {
        (true, false) => Ok(CatalogKind::Offering),
        (false, true) => Ok(CatalogKind::Price),
        _ => Err(String::from(
            ": cannot tell an offering from a price: give @type or @baseType (ProductOffering or ProductOfferingPrice)",
        )),
    }
}

fn parse_entry(raw: &Value, kind: CatalogKind) -> Result<(CatalogEntry, OffsetDateTime), String> {
    if !raw.is_object() {
        return Err(String::from(": not an object"));
    }
    let entry = match kind {
        CatalogKind::Offering => CatalogEntry::Offering(parse_offering(raw)?),
        CatalogKind::Price => CatalogEntry::Price(parse_price(raw, PriceChangeKind::Upsert)?),
    };
    let last_update = entry
        .last_update()
        .ok_or_else(|| String::from(".lastUpdate: missing (it orders catalog changes)"))?;
    Ok((entry, last_update))
}

/// What an import does with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Not stored (or only a tombstone older than the entry): stored.
    Create,
    /// Stored older and different: replaced.
    Update,
    /// Stored equal: nothing written.
    Unchanged,
    /// The store holds a newer (or same-`lastUpdate`, different) version or tombstone:
    /// nothing written, as for a stale catalog event.
    Stale,
}

/// One entry's planned (or done) action.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEntry {
    /// Where it sits in the file.
    pub path: String,
    /// Offering or price.
    pub kind: CatalogKind,
    /// The id.
    pub id: String,
    /// What import does (or did).
    pub action: Action,
}

/// Counts per action, and of invalid entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncSummary {
    /// Created.
    pub created: u64,
    /// Updated.
    pub updated: u64,
    /// Unchanged.
    pub unchanged: u64,
    /// Stale.
    pub stale: u64,
    /// Invalid (not imported).
    pub invalid: u64,
}

impl SyncSummary {
    /// The counts of `entries` and `invalid` errors.
    pub fn of(entries: &[PlannedEntry], invalid: usize) -> Self {
        let mut summary = SyncSummary {
            invalid: u64::try_from(invalid).unwrap_or(u64::MAX),
            ..SyncSummary::default()
        };
        for entry in entries {
            match entry.action {
                Action::Create => summary.created += 1,
                Action::Update => summary.updated += 1,
                Action::Unchanged => summary.unchanged += 1,
                Action::Stale => summary.stale += 1,
            }
        }
        summary
    }

    /// Created plus updated.
    pub fn changed(&self) -> u64 {
        self.created + self.updated
    }
}

/// The action for `entry` given what is stored.
fn classify(entry: &LocatedEntry, stored: Option<&StoredVersion>) -> Action {
    let Some(stored) = stored else {
        return Action::Create;
    };
    let newer_stored = stored.last_update.is_some_and(|at| at >= entry.last_update);
    if stored.deleted {
        return if newer_stored {
            Action::Stale
        } else {
            Action::Create
        };
    }
    if stored.body == entry.entry.to_json() {
        Action::Unchanged
    } else if newer_stored {
        Action::Stale
    } else {
        Action::Update
    }
}

/// Entries are compared and written this many at a time (one stored-versions read each).
pub const CHUNK: usize = 100;

/// Plans `entries` against the store: the same classification [`import`] acts on.
/// `progress` is called with the number of entries done so far after each chunk.
///
/// # Errors
/// When the store fails.
pub async fn plan(
    versions: &dyn CatalogVersions,
    entries: &[LocatedEntry],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<PlannedEntry>, StoreError> {
    let mut planned = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(CHUNK) {
        planned.extend(plan_chunk(versions, chunk).await?);
        progress(planned.len());
    }
    Ok(planned)
}

async fn plan_chunk(
    versions: &dyn CatalogVersions,
    chunk: &[LocatedEntry],
) -> Result<Vec<PlannedEntry>, StoreError> {
    let mut stored: BTreeMap<(CatalogKind, String), StoredVersion> = BTreeMap::new();
    for kind in [CatalogKind::Offering, CatalogKind::Price] {
        let ids: Vec<String> = chunk
            .iter()
            .filter(|e| e.entry.kind() == kind)
            .map(|e| e.entry.id().to_owned())
            .collect();
        if ids.is_empty() {
            continue;
        }
        for version in versions.stored_versions(kind, &ids).await? {
            stored.insert((kind, version.id.clone()), version);
        }
    }
    Ok(chunk
        .iter()
        .map(|e| {
            let key = (e.entry.kind(), e.entry.id().to_owned());
            PlannedEntry {
                path: e.path.clone(),
                kind: e.entry.kind(),
                id: e.entry.id().to_owned(),
                action: classify(e, stored.get(&key)),
            }
        })
        .collect())
}

/// What [`import`] needs.
#[derive(Clone)]
pub struct ImportPorts {
    /// What is stored.
    pub versions: Arc<dyn CatalogVersions>,
    /// Offering writes (conditional on `lastUpdate`).
    pub offerings: Arc<dyn OfferingCatalogWriter>,
    /// Price writes (conditional on `lastUpdate`).
    pub prices: Arc<dyn PriceCatalogWriter>,
    /// `pricing-changes`: the events of created and updated entries go here.
    pub queue: Arc<dyn QueueClient>,
    /// The event time of those events.
    pub clock: Arc<dyn Clock>,
}

/// Imports `entries`: plans each chunk, enqueues the events of its created and updated
/// entries, then writes them. Returns what was done per entry: the plan, except that an
/// entry a concurrent newer write overtook between plan and write is `Stale`.
///
/// # Errors
/// When the store or the queue fails (entries of earlier chunks stay imported; a re-run
/// continues where this one stopped).
pub async fn import(
    ports: &ImportPorts,
    entries: &[LocatedEntry],
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<PlannedEntry>, ImportError> {
    let mut done = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(CHUNK) {
        let mut planned = plan_chunk(ports.versions.as_ref(), chunk).await?;
        let now = ports.clock.now();
        let messages: Vec<OutgoingMessage> = chunk
            .iter()
            .zip(&planned)
            .filter(|(_, p)| matches!(p.action, Action::Create | Action::Update))
            .map(|(entry, p)| event_message(entry, p.action, now))
            .collect();
        for batch in messages.chunks(MAX_BATCH) {
            let outcome = ports
                .queue
                .send_batch(queues::PRICING_CHANGES, batch)
                .await
                .map_err(|e| ImportError::Queue(e.to_string()))?;
            if let Some(failure) = outcome.failed.first() {
                return Err(ImportError::Queue(format!(
                    "pricing-changes refused an event: {failure:?}"
                )));
            }
        }
        // The chunk's writes run WRITE_CONCURRENCY at a time (each a conditional write of
        // its own; DynamoDB has no conditional batch write), results in file order.
        let outcomes: Vec<Option<ApplyOutcome>> =
            futures::stream::iter(chunk.iter().zip(&planned).map(|(entry, p)| async move {
                if !matches!(p.action, Action::Create | Action::Update) {
                    return Ok(None);
                }
                write_entry(ports, entry).await.map(Some)
            }))
            .buffered(WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        for (p, outcome) in planned.iter_mut().zip(outcomes) {
            // `AlreadyCurrent`: the fan-out applied the just-enqueued event first; the
            // entry is stored as planned all the same.
            if matches!(outcome, Some(ApplyOutcome::Stale { .. })) {
                p.action = Action::Stale;
            }
        }
        done.extend(planned);
        progress(done.len());
    }
    Ok(done)
}

/// Writes of one chunk in flight at once.
const WRITE_CONCURRENCY: usize = 16;

/// One conditional write, as the fan-out would apply the entry's event.
async fn write_entry(
    ports: &ImportPorts,
    entry: &LocatedEntry,
) -> Result<ApplyOutcome, StoreError> {
    match &entry.entry {
        CatalogEntry::Offering(offering) => {
            ports
                .offerings
                .apply_offering_change(&OfferingChange {
                    kind: PriceChangeKind::Upsert,
                    offering: offering.clone(),
                    last_update: entry.last_update,
                })
                .await
        }
        CatalogEntry::Price(price) => {
            ports
                .prices
                .apply_price_change(&PriceChange {
                    kind: PriceChangeKind::Upsert,
                    price: price.clone(),
                    last_update: entry.last_update,
                })
                .await
        }
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The store failed.
    #[error("catalog store failed: {0}")]
    Store(#[from] StoreError),
    /// `pricing-changes` refused the events.
    #[error("pricing-changes: {0}")]
    Queue(String),
}

/// The TMF620 event announcing an imported entry, as the catalog would have sent it.
fn event_message(entry: &LocatedEntry, action: Action, now: OffsetDateTime) -> OutgoingMessage {
    let kind = entry.entry.kind();
    let resource = kind.resource();
    let event_type = match action {
        Action::Create => format!("{resource}CreateEvent"),
        _ if is_retired_status(entry.entry.lifecycle_status()) => {
            format!("{resource}StateChangeEvent")
        }
        _ => format!("{resource}AttributeValueChangeEvent"),
    };
    let payload_field = match kind {
        CatalogKind::Offering => "productOffering",
        CatalogKind::Price => "productOfferingPrice",
    };
    let event_id = format!(
        "import:{}:{}:{}",
        payload_field,
        entry.entry.id(),
        entry.last_update.unix_timestamp_nanos()
    );
    let body = json!({
        "eventId": event_id,
        "eventType": event_type,
        "eventTime": now.format(&Rfc3339).unwrap_or_default(),
        "schemaVersion": SCHEMA_VERSION,
        "event": { payload_field: entry.entry.to_json() },
    });
    OutgoingMessage {
        body: body.to_string(),
        attributes: BTreeMap::from([
            (attributes::EVENT_TYPE.to_owned(), event_type),
            (
                attributes::SCHEMA_VERSION.to_owned(),
                SCHEMA_VERSION.to_owned(),
            ),
            (attributes::EVENT_ID.to_owned(), event_id),
        ]),
    }
}

#[cfg(test)]
mod tests;
