//! `q2c queue …` and `q2c catalog price-change`: operate the embedded queues of a `q2c local`
//! data directory from another process. SQLite lets several processes share the database
//! (WAL, `busy_timeout`), so these work while `q2c local` runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use q2c_local::{SqliteQueues, SqliteStore};
use q2c_model::money::{Currency, Money};
use q2c_service::event_versions::{SchemaMajor, render_envelope};
use q2c_service::messaging::{OutgoingMessage, Receive, ReceivedMessage};
use q2c_service::messaging::{QueueClient, attributes, parse_message, queues};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::flags::{GLOBAL, parse_attribute};
use q2c_embedded::local::shutdown_signal;

/// The schema version of an envelope sent without one: the unversioned form is read as v4.
const UNVERSIONED_SCHEMA_VERSION: &str = SchemaMajor::V4.version();
/// How long a message received by `tail` stays hidden before it is deleted or shown again.
const TAIL_VISIBILITY: Duration = Duration::from_secs(30);

pub use q2c_embedded::data_dir::open_store;
pub use q2c_embedded::queues::create;

/// `q2c queue …`.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Print a queue's messages as JSON lines (messageId, receiveCount, sentAt, attributes,
    /// body) and DELETE them once printed (--keep leaves them): tail is the queue's consumer
    /// (e.g. of billing-updates, which nothing else consumes locally). Says how many it
    /// printed and deleted, on stderr.
    Tail(TailArgs),
    /// Send one message (a TMF event envelope read from a file) to a queue; its eventType,
    /// eventId and schemaVersion become message attributes.
    Send(SendArgs),
    /// Create a queue (and its -dlq) for a hub subscriber, e.g. `subscriber-acme`, which
    /// tenant acme then subscribes as `local:subscriber-acme`.
    Create(CreateArgs),
}

/// Options of `q2c queue create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Queue name (not a system queue).
    pub queue: String,
    /// Data directory of the `q2c local` whose queues to extend.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Options of `q2c queue tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Queue name: pricing-changes, orders, quote-events, billing-updates or `<name>-dlq`.
    pub queue: String,
    /// Print what is there now and exit (default: follow until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Leave the messages on the queue (received with a zero visibility timeout, which
    /// raises their receive count: after maxReceiveCount receives they move to the DLQ).
    #[arg(long)]
    pub keep: bool,
    /// Data directory of the `q2c local` whose queues to read.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Options of `q2c queue send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Queue name.
    pub queue: String,
    /// File holding the message body (a TMF event envelope: eventId, eventType, event).
    #[arg(long)]
    pub body_file: PathBuf,
    /// Extra message attribute, `name=value` (repeatable), e.g. `tenant=acme`.
    #[arg(long = "attribute", value_parser = parse_attribute)]
    pub attributes: Vec<(String, String)>,
    /// Data directory of the `q2c local` whose queues to write.
    #[arg(long, env = "Q2C_DATA_DIR", default_value_os_t = q2c_embedded::data_dir::default_dir(), help_heading = GLOBAL)]
    pub data_dir: PathBuf,
}

/// Runs `q2c queue …`.
///
/// # Errors
/// When the data directory has no database, or the queue operation fails.
pub async fn run(command: QueueCommand) -> anyhow::Result<()> {
    match command {
        QueueCommand::Tail(args) => {
            let store = open_store(&args.data_dir)?;
            let queues = q2c_local::SqliteQueues::new(&store);
            let mut out = std::io::stdout();
            let tail = tail(&queues, &args.queue, args.once, args.keep, &mut out);
            let printed = tokio::select! {
                printed = tail => match printed {
                    Ok(printed) => printed,
                    // `q2c queue tail … | head`: the reader is gone, end quietly.
                    Err(e) if crate::human::is_broken_pipe(&e) => return Ok(()),
                    Err(e) => return Err(e),
                },
                () = shutdown_signal() => return Ok(()),
            };
            // On stderr: stdout carries the messages only.
            match (printed, args.keep) {
                (0, _) => eprintln!("{}: no messages", args.queue),
                (n, false) => eprintln!(
                    "{}: {n} message(s) printed and deleted (--keep leaves them)",
                    args.queue
                ),
                (n, true) => eprintln!("{}: {n} message(s) printed, left on the queue", args.queue),
            }
            Ok(())
        }
        QueueCommand::Create(args) => {
            let store = open_store(&args.data_dir)?;
            create(&q2c_local::SqliteQueues::new(&store), &args.queue).await?;
            println!("local:{}", args.queue);
            Ok(())
        }
        QueueCommand::Send(args) => {
            let store = open_store(&args.data_dir)?;
            let body = std::fs::read_to_string(&args.body_file)
                .with_context(|| format!("reading {}", args.body_file.display()))?;
            let queues = q2c_local::SqliteQueues::new(&store);
            let attributes = args.attributes.into_iter().collect();
            let id = send(&queues, &args.queue, &body, &attributes).await?;
            println!("{id}");
            Ok(())
        }
    }
}

/// Sends `body` (a TMF event envelope) to `queue`, with the routing attributes taken from the
/// envelope (`eventType`, `eventId`, `schemaVersion`) plus `extra`. Returns the message id.
///
/// # Errors
/// When the body is not an envelope the consumers would accept, or the queue refuses it.
pub async fn send(
    queues: &dyn QueueClient,
    queue: &str,
    body: &str,
    extra: &BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let mut attrs = extra.clone();
    // Refuse here what the consumer would dead-letter, naming why.
    let parsed = parse_message("-", body, &attrs, None)
        .map_err(|reason| anyhow::anyhow!("not a message the consumers accept: {reason}"))?;
    attrs
        .entry(attributes::EVENT_TYPE.into())
        .or_insert(parsed.event_type);
    attrs
        .entry(attributes::EVENT_ID.into())
        .or_insert(parsed.event_id);
    attrs
        .entry(attributes::SCHEMA_VERSION.into())
        .or_insert_with(|| {
            parsed
                .schema_version
                .unwrap_or_else(|| UNVERSIONED_SCHEMA_VERSION.into())
        });
    let outcome = queues
        .send_batch(
            queue,
            &[OutgoingMessage {
                body: body.to_owned(),
                attributes: attrs,
            }],
        )
        .await?;
    match (outcome.sent.first(), outcome.failed.first()) {
        (Some((_, id)), _) => Ok(id.clone()),
        (None, Some(failure)) => bail!("{queue} refused the message: {}", failure.code),
        (None, None) => bail!("{queue} answered neither sent nor failed"),
    }
}

/// One received message as a JSON line: id, receive count, attributes and the body (as JSON
/// when it parses, else as text).
pub fn message_line(message: &ReceivedMessage) -> Value {
    let body = serde_json::from_str::<Value>(&message.body)
        .unwrap_or_else(|_| Value::String(message.body.clone()));
    json!({
        "messageId": message.message_id,
        "receiveCount": message.receive_count,
        "sentAt": message.sent_at.format(&Rfc3339).unwrap_or_default(),
        "attributes": message.attributes,
        "body": body,
    })
}

/// Prints the messages of `queue` as JSON lines, deleting each once printed (tail is that
/// queue's consumer), or leaving them when `keep`. With `once`, stops when the queue has
/// nothing visible; else follows it until Ctrl-C. Returns how many were printed.
///
/// # Errors
/// When the queue does not exist or the output cannot be written.
pub async fn tail(
    queues: &dyn QueueClient,
    queue: &str,
    once: bool,
    keep: bool,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<u64> {
    let mut printed = 0;
    // `keep` hides nothing (visibility 0), so a follow-up receive would see the same
    // messages again: with `keep`, one pass only.
    let visibility = if keep {
        Duration::ZERO
    } else {
        TAIL_VISIBILITY
    };
    let wait = if once {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    loop {
        let batch = queues
            .receive(queue, Receive::batch(visibility).waiting(wait))
            .await?;
        if batch.is_empty() {
            if once || keep {
                return Ok(printed);
            }
            continue;
        }
        for message in &batch {
            writeln!(out, "{}", message_line(message))?;
        }
        out.flush()?;
        printed += batch.len() as u64;
        if keep {
            if batch.len() < 10 {
                return Ok(printed);
            }
            continue;
        }
        let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
        queues.delete_batch(queue, &handles).await?;
    }
}

/// Builds a `ProductOfferingPriceAttributeValueChangeEvent` for the price `price_id` of the
/// store's catalog with a new amount (and currency), `lastUpdate` = now.
///
/// # Errors
/// When the price does not exist or the amount is not a valid decimal.
pub async fn price_change_event(
    store: &SqliteStore,
    price_id: &str,
    value: &str,
    currency: Option<&str>,
    now: OffsetDateTime,
) -> anyhow::Result<Value> {
    let amount = Decimal::from_str(value)
        .with_context(|| format!("`{value}` is not a decimal amount (e.g. 19.99)"))?;
    let mut prices = store.catalog_store().prices(&[price_id.to_owned()]).await?;
    let Some(mut price) = prices.pop() else {
        bail!("no price `{price_id}` in the local catalog (see GET …/productOfferingPrice)");
    };
    let currency = match (currency, price.price) {
        (Some(code), _) => Currency::parse(code).with_context(|| format!("currency `{code}`"))?,
        (None, Some(old)) => old.currency,
        (None, None) => bail!("price `{price_id}` has no amount today: give --currency"),
    };
    price.price = Some(Money::new(amount, currency));
    // The event's lastUpdate orders it against other changes of this price.
    price.last_update = Some(now.max(price.last_update.unwrap_or(now)));
    let event_id = uuid::Uuid::new_v4().to_string();
    let envelope = json!({
        "eventId": event_id,
        "eventTime": now.format(&Rfc3339)?,
        "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
        "event": {"productOfferingPrice": price},
    });
    Ok(render_envelope(&envelope, SchemaMajor::DEFAULT_EMIT))
}

/// What `q2c catalog price-change` enqueued.
#[derive(Debug, Clone)]
pub struct PriceChanged {
    /// The event's id.
    pub event_id: String,
    /// The price's amount before (as the local catalog holds it now).
    pub before: Option<Money>,
    /// The amount the event carries.
    pub after: Option<Money>,
}

impl PriceChanged {
    /// What the command prints: the change, then the event and where it went.
    pub fn describe(&self, price_id: &str) -> String {
        let amount = |money: &Option<Money>| {
            money
                .as_ref()
                .map_or_else(|| "(none)".to_owned(), ToString::to_string)
        };
        format!(
            "price {price_id}: {} -> {}\nevent {} (ProductOfferingPriceAttributeValueChangeEvent) \
             enqueued on {}: q2c local's price fan-out applies it, billing-updates first",
            amount(&self.before),
            amount(&self.after),
            self.event_id,
            queues::PRICING_CHANGES
        )
    }
}

/// `q2c catalog price-change`: enqueues the change on `pricing-changes`.
///
/// # Errors
/// As [`price_change_event`] and [`send`].
pub async fn price_change(
    data_dir: &Path,
    price_id: &str,
    value: &str,
    currency: Option<&str>,
) -> anyhow::Result<PriceChanged> {
    let store = open_store(data_dir)?;
    let before = store
        .catalog_store()
        .prices(&[price_id.to_owned()])
        .await?
        .pop()
        .and_then(|price| price.price);
    let event =
        price_change_event(&store, price_id, value, currency, OffsetDateTime::now_utc()).await?;
    let queues = SqliteQueues::new(&store);
    send(
        &queues,
        queues::PRICING_CHANGES,
        &event.to_string(),
        &BTreeMap::new(),
    )
    .await?;
    let after =
        serde_json::from_value(event["event"]["productOfferingPrice"]["price"].clone()).ok();
    Ok(PriceChanged {
        event_id: event["eventId"].as_str().unwrap_or_default().to_owned(),
        before,
        after,
    })
}
