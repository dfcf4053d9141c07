//! Replays a recording into shadow tables and prices every request.
//!
//! Writes are priced by the larger of the item before and after (the shadow table knows the
//! before), doubled in a transaction; each global secondary index the write touches adds a put,
//! a delete, both (its key changed) or an update (a projected attribute changed), priced by the
//! projected item's size at the standard rate (index propagation is not transactional).
//! Reads are priced by what they read: a get or batch get per item, a query once over
//! everything it read. A query with a filter reads more than it returns: those items are
//! priced at the average size of what it returned (or of the shadow table), and the charge is
//! marked estimated.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::item::{Item, item_size};
use crate::pricing::SQS_CHUNK_BYTES;
use crate::record::{Record, Service};
use crate::schema::{Index, TableSchema};
use crate::units::{Consistency, read_units, write_units};
use crate::update::{Placeholders, apply};

/// What one request cost on one table or index partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub step: String,
    pub operation: String,
    /// `table` or `table/index`.
    pub target: String,
    pub partition_key: String,
    pub write_units: f64,
    pub read_units: f64,
    /// Part of this charge is an estimate (items a filter dropped, counted queries).
    pub estimated: bool,
}

/// Requests to SQS or Lambda.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCharge {
    pub step: String,
    pub service: Service,
    pub operation: String,
    /// Billed requests (SQS: 64 KB chunks of the payload).
    pub requests: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("request {index} ({operation}): {reason}")]
    Request {
        index: usize,
        operation: String,
        reason: String,
    },
}

/// The shadow tables and the charges so far.
pub struct Replay {
    schemas: Vec<TableSchema>,
    shadow: HashMap<String, HashMap<String, Item>>,
    pub charges: Vec<Charge>,
    pub requests: Vec<RequestCharge>,
    /// Requests the model does not price (control plane: CreateTable, DescribeTable …).
    pub unpriced: HashMap<String, u64>,
    /// Base-table partitions: whether a conditional put created them (`attribute_not_exists`),
    /// and the sort keys written under them.
    partitions: HashMap<(String, String), Partition>,
}

#[derive(Debug, Default)]
struct Partition {
    created: bool,
    sort_keys: HashSet<String>,
}

struct Ctx<'a> {
    step: &'a str,
    operation: &'a str,
}

impl Replay {
    pub fn new(schemas: Vec<TableSchema>) -> Self {
        Replay {
            schemas,
            shadow: HashMap::new(),
            charges: Vec::new(),
            requests: Vec::new(),
            unpriced: HashMap::new(),
            partitions: HashMap::new(),
        }
    }

    /// Partition keys of one entity each (`(table, key)`): created during the recording by a
    /// put conditioned on `attribute_not_exists`, holding one item. A quote, an order or an
    /// event is new with each unit of work, so the load on its key does not grow with the
    /// rate (the report leaves them out of the extrapolation and shows them apart).
    pub fn entity_keys(&self) -> BTreeSet<(String, String)> {
        self.partitions
            .iter()
            .filter(|(_, p)| p.created && p.sort_keys.len() == 1)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Prices every record in order.
    pub fn run(&mut self, records: &[Record]) -> Result<(), ReplayError> {
        for (index, record) in records.iter().enumerate() {
            self.record(record).map_err(|reason| ReplayError::Request {
                index: index + 1,
                operation: record.operation.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    fn schema(&self, table: &str) -> Result<&TableSchema, String> {
        if let [only] = &self.schemas[..] {
            return Ok(only);
        }
        let lower = table.to_ascii_lowercase();
        self.schemas
            .iter()
            .find(|s| lower.contains(&s.logical_id.to_ascii_lowercase()))
            .ok_or_else(|| format!("no table schema matches table {table}"))
    }

    /// Prices one record.
    pub fn record(&mut self, record: &Record) -> Result<(), String> {
        let ctx = Ctx {
            step: record.step(),
            operation: &record.operation,
        };
        match record.service {
            Service::Lambda => self.requests.push(RequestCharge {
                step: ctx.step.to_owned(),
                service: Service::Lambda,
                operation: record.operation.clone(),
                requests: 1,
            }),
            Service::Sqs => self.sqs(record, &ctx),
            Service::Dynamodb => self.dynamodb(record, &ctx)?,
        }
        Ok(())
    }

    fn sqs(&mut self, record: &Record, ctx: &Ctx) {
        let payload: u64 = match record.operation.as_str() {
            "SendMessage" => message_bytes(&record.request),
            "SendMessageBatch" => entries(&record.request).map(message_bytes).sum(),
            "ReceiveMessage" => record
                .response
                .get("Messages")
                .and_then(Value::as_array)
                .map(|m| m.iter().map(message_bytes).sum())
                .unwrap_or(0),
            _ => 0,
        };
        self.requests.push(RequestCharge {
            step: ctx.step.to_owned(),
            service: Service::Sqs,
            operation: record.operation.clone(),
            requests: payload.div_ceil(SQS_CHUNK_BYTES).max(1),
        });
    }

    fn dynamodb(&mut self, record: &Record, ctx: &Ctx) -> Result<(), String> {
        let request = &record.request;
        let failed = record.failed();
        match record.operation.as_str() {
            "PutItem" => {
                let table = str_field(request, "TableName")?;
                let item = obj_field(request, "Item")?.clone();
                self.put(ctx, table, item, condition(request), false, failed)
            }
            "UpdateItem" => self.update(ctx, request, false, failed),
            "DeleteItem" => {
                let table = str_field(request, "TableName")?;
                let key = obj_field(request, "Key")?;
                self.delete(ctx, table, key, false, failed)
            }
            "TransactWriteItems" => {
                for action in request
                    .get("TransactItems")
                    .and_then(Value::as_array)
                    .ok_or("no TransactItems")?
                {
                    if let Some(put) = action.get("Put") {
                        let table = str_field(put, "TableName")?;
                        let item = obj_field(put, "Item")?.clone();
                        self.put(ctx, table, item, condition(put), true, failed)?;
                    } else if let Some(update) = action.get("Update") {
                        self.update(ctx, update, true, failed)?;
                    } else if let Some(delete) = action.get("Delete") {
                        let table = str_field(delete, "TableName")?;
                        self.delete(ctx, table, obj_field(delete, "Key")?, true, failed)?;
                    } else if let Some(check) = action.get("ConditionCheck") {
                        // Priced as a transactional write of the checked item (an upper bound).
                        let table = str_field(check, "TableName")?;
                        let key = obj_field(check, "Key")?;
                        let schema = self.schema(table)?.clone();
                        let size = self
                            .shadow_get(table, &schema, key)
                            .map_or(0, |i| item_size(&i));
                        self.charge(
                            ctx,
                            table,
                            None,
                            pk_of(&schema.partition_key, key),
                            write_units(size, true),
                            0.0,
                            false,
                        );
                    }
                }
                Ok(())
            }
            "BatchWriteItem" => {
                let unprocessed = record
                    .response
                    .get("UnprocessedItems")
                    .and_then(Value::as_object);
                for (table, requests) in obj_field(request, "RequestItems")? {
                    let skipped = unprocessed
                        .and_then(|u| u.get(table))
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for write in requests.as_array().into_iter().flatten() {
                        if skipped.contains(write) {
                            continue;
                        }
                        if let Some(put) = write.get("PutRequest") {
                            self.put(
                                ctx,
                                table,
                                obj_field(put, "Item")?.clone(),
                                None,
                                false,
                                false,
                            )?;
                        } else if let Some(delete) = write.get("DeleteRequest") {
                            self.delete(ctx, table, obj_field(delete, "Key")?, false, false)?;
                        }
                    }
                }
                Ok(())
            }
            "GetItem" => {
                let table = str_field(request, "TableName")?;
                let schema = self.schema(table)?.clone();
                let key = obj_field(request, "Key")?;
                let size = record
                    .response
                    .get("Item")
                    .and_then(Value::as_object)
                    .map_or(0, item_size);
                let consistency = consistency(request);
                self.charge(
                    ctx,
                    table,
                    None,
                    pk_of(&schema.partition_key, key),
                    0.0,
                    read_units(size, consistency),
                    false,
                );
                Ok(())
            }
            "BatchGetItem" | "TransactGetItems" => self.batch_get(record, ctx),
            "Query" | "Scan" => self.query(record, ctx),
            _ => {
                *self.unpriced.entry(record.operation.clone()).or_default() += 1;
                Ok(())
            }
        }
    }

    fn batch_get(&mut self, record: &Record, ctx: &Ctx) -> Result<(), String> {
        let transactional = record.operation == "TransactGetItems";
        let mut wanted: Vec<(String, Map<String, Value>, Consistency)> = Vec::new();
        if transactional {
            for get in record
                .request
                .get("TransactItems")
                .and_then(Value::as_array)
                .ok_or("no TransactItems")?
            {
                let get = get.get("Get").ok_or("a TransactItems entry without Get")?;
                wanted.push((
                    str_field(get, "TableName")?.to_owned(),
                    obj_field(get, "Key")?.clone(),
                    Consistency::Transactional,
                ));
            }
        } else {
            for (table, spec) in obj_field(&record.request, "RequestItems")? {
                let consistency = consistency(spec);
                for key in spec
                    .get("Keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    wanted.push((
                        table.clone(),
                        key.as_object().ok_or("a key that is not a map")?.clone(),
                        consistency,
                    ));
                }
            }
        }
        let returned: Vec<(String, Item)> = if transactional {
            record
                .response
                .get("Responses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .zip(wanted.iter())
                .filter_map(|(r, (table, _, _))| {
                    Some((table.clone(), r.get("Item")?.as_object()?.clone()))
                })
                .collect()
        } else {
            record
                .response
                .get("Responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .flat_map(|(table, items)| {
                    items
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|i| Some((table.clone(), i.as_object()?.clone())))
                })
                .collect()
        };
        let unprocessed = record
            .response
            .get("UnprocessedKeys")
            .and_then(Value::as_object);
        for (table, key, consistency) in wanted {
            let schema = self.schema(&table)?.clone();
            let still_wanted = unprocessed
                .and_then(|u| u.get(&table))
                .and_then(|spec| spec.get("Keys"))
                .and_then(Value::as_array)
                .is_some_and(|keys| keys.iter().any(|k| k.as_object() == Some(&key)));
            if still_wanted {
                continue;
            }
            let wanted_key = schema.key_of(&key);
            let size = returned
                .iter()
                .find(|(t, item)| *t == table && schema.key_of(item) == wanted_key)
                .map_or(0, |(_, item)| item_size(item));
            self.charge(
                ctx,
                &table,
                None,
                pk_of(&schema.partition_key, &key),
                0.0,
                read_units(size, consistency),
                false,
            );
        }
        Ok(())
    }

    fn query(&mut self, record: &Record, ctx: &Ctx) -> Result<(), String> {
        let request = &record.request;
        let table = str_field(request, "TableName")?;
        let schema = self.schema(table)?.clone();
        let index_name = request.get("IndexName").and_then(Value::as_str);
        let index = match index_name {
            Some(name) => Some(
                schema
                    .indexes
                    .iter()
                    .find(|i| i.name == name)
                    .ok_or_else(|| format!("no index {name} on {table}"))?
                    .clone(),
            ),
            None => None,
        };
        let partition_attribute = index
            .as_ref()
            .map_or(&schema.partition_key, |i| &i.partition_key);
        let partition_key = if record.operation == "Scan" {
            "(scan)".to_owned()
        } else {
            key_condition_value(request, partition_attribute)
                .unwrap_or_else(|| "(unknown)".to_owned())
        };
        let items: Vec<&Map<String, Value>> = record
            .response
            .get("Items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let returned_bytes: u64 = items.iter().map(|i| item_size(i)).sum();
        let count = record
            .response
            .get("Count")
            .and_then(Value::as_u64)
            .unwrap_or(items.len() as u64);
        let scanned = record
            .response
            .get("ScannedCount")
            .and_then(Value::as_u64)
            .unwrap_or(count);
        // Items read but not returned (a filter dropped them, or Select=COUNT returned none).
        let unseen = scanned.saturating_sub(items.len() as u64);
        let estimated = unseen > 0;
        let average = if !items.is_empty() {
            returned_bytes / items.len() as u64
        } else {
            self.average_size(table, &schema, index.as_ref())
        };
        let bytes = returned_bytes + unseen * average;
        let target_index = index_name.map(str::to_owned);
        self.charge(
            ctx,
            table,
            target_index.as_deref(),
            partition_key,
            0.0,
            read_units(bytes, consistency(request)),
            estimated,
        );
        Ok(())
    }

    fn average_size(&self, table: &str, schema: &TableSchema, index: Option<&Index>) -> u64 {
        let Some(rows) = self.shadow.get(table) else {
            return 0;
        };
        let sizes: Vec<u64> = rows
            .values()
            .filter(|i| index.is_none_or(|x| x.holds(i)))
            .map(|i| index.map_or_else(|| item_size(i), |x| x.projected_size(schema, i)))
            .collect();
        if sizes.is_empty() {
            0
        } else {
            sizes.iter().sum::<u64>() / sizes.len() as u64
        }
    }

    fn shadow_get(
        &self,
        table: &str,
        schema: &TableSchema,
        key: &Map<String, Value>,
    ) -> Option<Item> {
        self.shadow.get(table)?.get(&schema.key_of(key)).cloned()
    }

    fn put(
        &mut self,
        ctx: &Ctx,
        table: &str,
        item: Item,
        condition: Option<&str>,
        transactional: bool,
        failed: bool,
    ) -> Result<(), String> {
        let schema = self.schema(table)?.clone();
        let before = self.shadow_get(table, &schema, &item);
        if !failed {
            let partition = (table.to_owned(), pk_of(&schema.partition_key, &item));
            let creates = before.is_none()
                && condition.is_some_and(|c| c.trim_start().starts_with("attribute_not_exists("));
            if !self.partitions.contains_key(&partition) {
                self.partitions.entry(partition).or_default().created = creates;
            }
        }
        self.write(
            ctx,
            table,
            &schema,
            before,
            Some(item),
            transactional,
            failed,
        );
        Ok(())
    }

    fn update(
        &mut self,
        ctx: &Ctx,
        request: &Value,
        transactional: bool,
        failed: bool,
    ) -> Result<(), String> {
        let table = str_field(request, "TableName")?;
        let schema = self.schema(table)?.clone();
        let key = obj_field(request, "Key")?;
        let before = self.shadow_get(table, &schema, key);
        let mut after = before.clone().unwrap_or_else(|| key.clone());
        if let Some(expression) = request.get("UpdateExpression").and_then(Value::as_str) {
            apply(
                &mut after,
                expression,
                &Placeholders {
                    names: request
                        .get("ExpressionAttributeNames")
                        .and_then(Value::as_object),
                    values: request
                        .get("ExpressionAttributeValues")
                        .and_then(Value::as_object),
                },
            )
            .map_err(|e| e.to_string())?;
        }
        self.write(
            ctx,
            table,
            &schema,
            before,
            Some(after),
            transactional,
            failed,
        );
        Ok(())
    }

    fn delete(
        &mut self,
        ctx: &Ctx,
        table: &str,
        key: &Map<String, Value>,
        transactional: bool,
        failed: bool,
    ) -> Result<(), String> {
        let schema = self.schema(table)?.clone();
        let before = self.shadow_get(table, &schema, key);
        let keyed = before.clone().unwrap_or_else(|| key.clone());
        self.write_keyed(
            ctx,
            table,
            &schema,
            &keyed,
            before,
            None,
            transactional,
            failed,
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        ctx: &Ctx,
        table: &str,
        schema: &TableSchema,
        before: Option<Item>,
        after: Option<Item>,
        transactional: bool,
        failed: bool,
    ) {
        let keyed = after.clone().or_else(|| before.clone()).unwrap_or_default();
        self.write_keyed(
            ctx,
            table,
            schema,
            &keyed,
            before,
            after,
            transactional,
            failed,
        );
    }

    /// The base write and each index write; applied to the shadow unless the request failed.
    #[allow(clippy::too_many_arguments)]
    fn write_keyed(
        &mut self,
        ctx: &Ctx,
        table: &str,
        schema: &TableSchema,
        keyed: &Item,
        before: Option<Item>,
        after: Option<Item>,
        transactional: bool,
        failed: bool,
    ) {
        let size_before = before.as_ref().map_or(0, item_size);
        let size_after = after.as_ref().map_or(0, item_size);
        let partition_key = pk_of(&schema.partition_key, keyed);
        if failed {
            // A refused write (failed condition, cancelled transaction) still consumes write
            // units for the item it checked; nothing reaches the indexes.
            self.charge(
                ctx,
                table,
                None,
                partition_key,
                write_units(size_before, false),
                0.0,
                false,
            );
            return;
        }
        self.charge(
            ctx,
            table,
            None,
            partition_key,
            write_units(size_before.max(size_after), transactional),
            0.0,
            false,
        );
        for index in &schema.indexes {
            let old = before.as_ref().filter(|i| index.holds(i));
            let new = after.as_ref().filter(|i| index.holds(i));
            let mut writes: Vec<(String, u64)> = Vec::new();
            match (old, new) {
                (None, None) => {}
                (None, Some(n)) => writes.push((
                    pk_of(&index.partition_key, n),
                    index.projected_size(schema, n),
                )),
                (Some(o), None) => writes.push((
                    pk_of(&index.partition_key, o),
                    index.projected_size(schema, o),
                )),
                (Some(o), Some(n)) if index.key_of(o) != index.key_of(n) => {
                    writes.push((
                        pk_of(&index.partition_key, o),
                        index.projected_size(schema, o),
                    ));
                    writes.push((
                        pk_of(&index.partition_key, n),
                        index.projected_size(schema, n),
                    ));
                }
                (Some(o), Some(n)) => {
                    if index.projected(schema, o) != index.projected(schema, n) {
                        let size = index
                            .projected_size(schema, o)
                            .max(index.projected_size(schema, n));
                        writes.push((pk_of(&index.partition_key, n), size));
                    }
                }
            }
            for (key, size) in writes {
                self.charge(
                    ctx,
                    table,
                    Some(&index.name),
                    key,
                    write_units(size, false),
                    0.0,
                    false,
                );
            }
        }
        let sort_key = schema
            .sort_key
            .as_ref()
            .and_then(|s| keyed.get(s))
            .map(Value::to_string)
            .unwrap_or_default();
        self.partitions
            .entry((table.to_owned(), pk_of(&schema.partition_key, keyed)))
            .or_default()
            .sort_keys
            .insert(sort_key);
        let rows = self.shadow.entry(table.to_owned()).or_default();
        let key = schema.key_of(keyed);
        match after {
            Some(item) => rows.insert(key, item),
            None => rows.remove(&key),
        };
    }

    #[allow(clippy::too_many_arguments)]
    fn charge(
        &mut self,
        ctx: &Ctx,
        table: &str,
        index: Option<&str>,
        partition_key: String,
        write_units: f64,
        read_units: f64,
        estimated: bool,
    ) {
        self.charges.push(Charge {
            step: ctx.step.to_owned(),
            operation: ctx.operation.to_owned(),
            target: index.map_or_else(|| table.to_owned(), |i| format!("{table}/{i}")),
            partition_key,
            write_units,
            read_units,
            estimated,
        });
    }
}

fn str_field<'a>(value: &'a Value, field: &str) -> Result<&'a str, String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {field}"))
}

fn obj_field<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .get(field)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("no {field}"))
}

fn condition(request: &Value) -> Option<&str> {
    request.get("ConditionExpression").and_then(Value::as_str)
}

fn consistency(request: &Value) -> Consistency {
    if request.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        Consistency::Strong
    } else {
        Consistency::Eventual
    }
}

/// The partition key's value in an item or key, as text.
fn pk_of(attribute: &str, item: &Map<String, Value>) -> String {
    match item.get(attribute) {
        Some(value) => value
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map_or_else(|| value.to_string(), str::to_owned),
        None => "(none)".to_owned(),
    }
}

/// The value a query's key condition gives the partition key (`#pk = :v` or `pk = :v`).
fn key_condition_value(request: &Value, attribute: &str) -> Option<String> {
    let condition = request.get("KeyConditionExpression")?.as_str()?;
    let names = request
        .get("ExpressionAttributeNames")
        .and_then(Value::as_object);
    let values = request
        .get("ExpressionAttributeValues")
        .and_then(Value::as_object);
    for clause in condition.split(" AND ").chain(condition.split(" and ")) {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        let left = left.trim().trim_start_matches('(');
        let right = right.trim().trim_end_matches(')');
        let name = match left.strip_prefix('#') {
            Some(_) => names?.get(left)?.as_str()?,
            None => left,
        };
        if name == attribute {
            let value = values?.get(right)?;
            return Some(pk_of(
                "v",
                &Map::from_iter([("v".to_owned(), value.clone())]),
            ));
        }
    }
    None
}

fn entries(request: &Value) -> impl Iterator<Item = &Value> {
    request
        .get("Entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A message's billed payload: its body plus its attributes (names, types and values).
fn message_bytes(message: &Value) -> u64 {
    let body = message
        .get("MessageBody")
        .or_else(|| message.get("Body"))
        .and_then(Value::as_str)
        .map_or(0, str::len) as u64;
    let attributes: u64 = message
        .get("MessageAttributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let data_type = value
                .get("DataType")
                .and_then(Value::as_str)
                .map_or(0, str::len);
            let text = value
                .get("StringValue")
                .and_then(Value::as_str)
                .map_or(0, str::len);
            (name.len() + data_type + text) as u64
        })
        .sum();
    body + attributes
}
