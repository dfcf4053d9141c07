//! The schema, as an ordered list of migrations. `PRAGMA user_version` records how many
//! have run; each runs in its own transaction together with the version bump, so a crash
//! mid-migration leaves the previous version intact. Never edit a released migration:
//! append a new one.

use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11];

/// Version 1: quotes and their index tables, catalog, hubs, idempotency, outbox.
const V1: &str = r#"
CREATE TABLE quotes (
    tenant            TEXT    NOT NULL,
    id                TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    state             TEXT,
    quote_date        INTEGER,          -- unix nanoseconds, NULL when unset
    external_id       TEXT,
    approval_required INTEGER NOT NULL,
    price_ids         TEXT    NOT NULL, -- JSON array of catalog price ids
    body              TEXT    NOT NULL, -- the TMF Quote as JSON
    PRIMARY KEY (tenant, id)
);
-- GET /quote orders by quoteDate DESC, id; each filter has an index leading with tenant.
CREATE INDEX quotes_by_date ON quotes (tenant, quote_date DESC, id);
CREATE INDEX quotes_by_state ON quotes (tenant, state, quote_date DESC, id);
CREATE INDEX quotes_by_external_id ON quotes (tenant, external_id)
    WHERE external_id IS NOT NULL;

-- relatedParty.id filter: one row per (quote, party), rewritten with the quote.
CREATE TABLE quote_parties (
    tenant   TEXT NOT NULL,
    party_id TEXT NOT NULL,
    quote_id TEXT NOT NULL,
    PRIMARY KEY (tenant, party_id, quote_id)
) WITHOUT ROWID;
CREATE INDEX quote_parties_by_quote ON quote_parties (tenant, quote_id);

-- Which open (non-final) quotes use a catalog price; spans tenants like the catalog.
CREATE TABLE open_quote_prices (
    price_id TEXT NOT NULL,
    tenant   TEXT NOT NULL,
    quote_id TEXT NOT NULL,
    PRIMARY KEY (price_id, tenant, quote_id)
) WITHOUT ROWID;
CREATE INDEX open_quote_prices_by_quote ON open_quote_prices (tenant, quote_id);

CREATE TABLE offerings (
    id          TEXT PRIMARY KEY,
    last_update INTEGER,
    body        TEXT NOT NULL
);
CREATE TABLE prices (
    id          TEXT PRIMARY KEY,
    last_update INTEGER,
    body        TEXT NOT NULL
);

CREATE TABLE hub_subscriptions (
    tenant   TEXT NOT NULL,
    api      TEXT NOT NULL,
    id       TEXT NOT NULL,
    callback TEXT NOT NULL,
    query    TEXT,
    body     TEXT NOT NULL,
    PRIMARY KEY (tenant, api, id)
) WITHOUT ROWID;

CREATE TABLE idempotency (
    tenant            TEXT    NOT NULL,
    key               TEXT    NOT NULL,
    request_hash      TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('in-progress', 'completed')),
    in_progress_until INTEGER NOT NULL,
    expires_at        INTEGER,
    response          TEXT,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_completed_expiry ON idempotency (expires_at)
    WHERE status = 'completed';
CREATE INDEX idempotency_claim_expiry ON idempotency (in_progress_until)
    WHERE status = 'in-progress';

CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT    NOT NULL UNIQUE,
    destination    TEXT    NOT NULL,
    tenant         TEXT,
    event_type     TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    correlation_id TEXT,
    schema_version TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    published_at   INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
"#;

/// Version 2: the embedded queue engine (`SqliteQueues`): the queues of the SAM template, each
/// with a `<name>-dlq`, `maxReceiveCount` 5 and the template's retention, and their messages.
const V2: &str = r#"
CREATE TABLE queues (
    name              TEXT    PRIMARY KEY,
    dlq               TEXT,             -- where messages go after max_receive_count receives
    max_receive_count INTEGER NOT NULL,
    retention_seconds INTEGER NOT NULL  -- messages older than this (since sent) are dropped
) WITHOUT ROWID;
-- As the template: sources keep messages 4 days, DLQs 14 days.
INSERT INTO queues (name, dlq, max_receive_count, retention_seconds) VALUES
    ('pricing-changes', 'pricing-changes-dlq', 5, 345600),
    ('pricing-changes-dlq', NULL, 5, 1209600),
    ('orders', 'orders-dlq', 5, 345600),
    ('orders-dlq', NULL, 5, 1209600),
    ('quote-events', 'quote-events-dlq', 5, 345600),
    ('quote-events-dlq', NULL, 5, 1209600),
    ('billing-updates', 'billing-updates-dlq', 5, 345600),
    ('billing-updates-dlq', NULL, 5, 1209600);

CREATE TABLE queue_messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    queue          TEXT    NOT NULL,
    message_id     TEXT    NOT NULL UNIQUE,
    body           TEXT    NOT NULL,
    attributes     TEXT    NOT NULL,    -- JSON object of string message attributes
    sent_at        INTEGER NOT NULL,    -- unix nanoseconds
    visible_at     INTEGER NOT NULL,    -- unix nanoseconds; invisible (in flight) until then
    receive_count  INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT    UNIQUE       -- of the latest receive; NULL before the first
);
CREATE INDEX queue_messages_ready ON queue_messages (queue, visible_at, seq);
CREATE INDEX queue_messages_by_age ON queue_messages (sent_at);
"#;

/// Version 3: price tombstones for the price fan-out. A deleted price keeps its row (and its
/// `last_update`) with `deleted = 1`, so an older update arriving late cannot bring it back;
/// catalog reads skip such rows.
const V3: &str = r#"
ALTER TABLE prices ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
"#;

/// Version 4: the order dispatch log (`DispatchLog`): who dispatches which order, and which
/// are done.
const V4: &str = r#"
CREATE TABLE dispatch_log (
    tenant        TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    status        TEXT    NOT NULL,    -- 'in-progress' (claimed or released) or 'dispatched'
    attempts      INTEGER NOT NULL,    -- claims so far; the fencing token of a release
    lease_until   INTEGER NOT NULL,    -- unix nanoseconds; 0 once released
    downstream_id TEXT,
    dispatched_at INTEGER,             -- unix nanoseconds
    PRIMARY KEY (tenant, order_id)
) WITHOUT ROWID;
"#;

/// Version 5: product orders (created by accepting a quote), with their dispatch record.
/// Listed per tenant newest first, like quotes.
const V5: &str = r#"
CREATE TABLE orders (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    quote_id        TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    order_date      INTEGER,          -- unix nanoseconds
    state           TEXT,             -- TMF622 state as order management reported it
    dispatch_status TEXT    NOT NULL, -- pending | dispatched | failed
    dispatch        TEXT    NOT NULL, -- the dispatch record as JSON
    body            TEXT    NOT NULL, -- the TMF622 ProductOrder as JSON
    PRIMARY KEY (tenant, id)
);
CREATE INDEX orders_by_date ON orders (tenant, order_date DESC, id);
"#;

/// Version 6: hub delivery: the index listing one API's subscriptions across tenants, and
/// the delivery log (which subscriber received which event).
const V6: &str = r#"
CREATE INDEX hub_subscriptions_by_api ON hub_subscriptions (api, tenant, id);

CREATE TABLE deliveries (
    event_id   TEXT    NOT NULL,
    subscriber TEXT    NOT NULL,    -- `<tenant>/<api>/<id>` or `builtin:<name>`
    expires_at INTEGER NOT NULL,    -- unix nanoseconds
    PRIMARY KEY (event_id, subscriber)
) WITHOUT ROWID;
CREATE INDEX deliveries_by_expiry ON deliveries (expires_at);
"#;

/// Version 7: catalog ingestion of offerings. Offering tombstones (`deleted = 1`, as prices
/// since V3) and the open-quote index by offering (`open_quote_offerings`, the offering of
/// every item, nested ones too, of each non-final quote), filled here from the quotes
/// already stored so retiring an offering finds them too.
const V7: &str = r#"
ALTER TABLE offerings ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE open_quote_offerings (
    offering_id TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    quote_id    TEXT NOT NULL,
    PRIMARY KEY (offering_id, tenant, quote_id)
) WITHOUT ROWID;
CREATE INDEX open_quote_offerings_by_quote ON open_quote_offerings (tenant, quote_id);

INSERT OR IGNORE INTO open_quote_offerings (offering_id, tenant, quote_id)
SELECT t.value, q.tenant, q.id
FROM quotes q, json_tree(q.body, '$.quoteItem') t
WHERE (q.state IS NULL OR q.state NOT IN ('accepted', 'rejected', 'cancelled'))
  AND t.key = 'id' AND t.path LIKE '%.productOffering' AND t.type = 'text' AND t.value <> '';
"#;

/// Version 8: per-tenant quota counts. `open_quote_counts` is moved by the relay when it
/// marks a quote event published (`q2c_service::quotas`); it starts as the open quotes
/// stored, less the effect of the events still pending (which their marking adds).
const V8: &str = r#"
CREATE TABLE open_quote_counts (
    tenant TEXT    PRIMARY KEY,
    open   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO open_quote_counts (tenant, open)
SELECT tenant, SUM(n) FROM (
    SELECT tenant, COUNT(*) AS n FROM quotes
    WHERE state IS NULL OR state NOT IN ('accepted', 'rejected', 'cancelled')
    GROUP BY tenant
    UNION ALL
    SELECT tenant, -COUNT(*) FROM outbox
    WHERE published_at IS NULL AND tenant IS NOT NULL AND event_type = 'QuoteCreateEvent'
    GROUP BY tenant
    UNION ALL
    SELECT tenant, COUNT(*) FROM outbox
    WHERE published_at IS NULL AND tenant IS NOT NULL
      AND ((event_type = 'QuoteStateChangeEvent'
            AND json_extract(body, '$.event.quote.state') IN ('accepted', 'rejected', 'cancelled'))
        OR (event_type = 'QuoteDeleteEvent'
            AND COALESCE(json_extract(body, '$.event.quote.state'), '')
                NOT IN ('accepted', 'rejected', 'cancelled')))
    GROUP BY tenant
)
GROUP BY tenant;
"#;

/// Version 9: the relay parks what it cannot publish (issue 14). `attempts` counts an
/// event's refusals by its queue; a parked entry leaves the pending set like a published one
/// (`published_at` = when it was parked, so housekeeping purges it alike) and keeps
/// `parked_reason` (its whole copy is in `<destination>-dlq`).
const V9: &str = r#"
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN parked_reason TEXT;
"#;

/// Version 10: the product inventory (TMF637), written with the order completing it. The
/// columns beside the body are what listings filter on.
const V10: &str = r#"
CREATE TABLE products (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT,             -- TMF637 status
    billing_account TEXT,             -- billingAccount.id
    offering_id     TEXT,             -- productOffering.id
    start_date      INTEGER,          -- unix nanoseconds
    body            TEXT    NOT NULL, -- the TMF637 Product as JSON
    PRIMARY KEY (tenant, id)
);
CREATE INDEX products_by_start ON products (tenant, start_date DESC, id);
CREATE INDEX products_by_account ON products (tenant, billing_account, start_date DESC, id);
"#;

/// Version 11: the TMF637 listing by party (`relatedParty.id`): `party_id` is the product's
/// owner party (the related party with role `customer`, any case, else the first), filled
/// from the bodies of the products stored before.
const V11: &str = r#"
ALTER TABLE products ADD COLUMN party_id TEXT;
UPDATE products SET party_id = COALESCE(
    (SELECT json_extract(value, '$.id') FROM json_each(products.body, '$.relatedParty')
      WHERE lower(json_extract(value, '$.role')) = 'customer' ORDER BY key LIMIT 1),
    json_extract(body, '$.relatedParty[0].id'));
CREATE INDEX products_by_party ON products (tenant, party_id, start_date DESC, id);
"#;

/// The schema version this build migrates to.
pub(crate) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// What [`migrate`] found.
pub(crate) enum Migration {
    /// The schema is at [`latest_version`] (possibly after running migrations).
    Current,
    /// The file has a newer schema than this build knows.
    TooNew(i64),
}

/// Runs the migrations the database has not seen yet.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<Migration> {
    loop {
        // Read the version inside the write transaction so two processes opening the same
        // new file cannot both run a migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > latest_version() {
            return Ok(Migration::TooNew(version));
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(Migration::Current);
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        tracing::info!(version = version + 1, "migrated SQLite schema");
    }
}
