//! The scenario: a quote lifecycle, an order dispatch and a price change, end to end through
//! the five functions of one stack.
//!
//! The harness stands in for what the stack does not run in moto (the HTTP API with its JWT
//! authorizer, the event source mappings) and for the operator (seeding the catalog,
//! creating the SSM credential, reading queues); everything the functions do, they do with
//! the configuration and permissions the stack gave them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use q2c_service::ports::CatalogStore;
use serde_json::{Value, json};

use crate::RehearsalError;
use crate::function::{Bootstraps, FunctionProcess, HarnessEnv};
use crate::mappings::{Declared, SqsMapping, StreamMapping, sdk_error};
use crate::moto::{MotoServer, read_journal};
use crate::oms::FakeOrderManagement;
use crate::stack::{DeployOptions, Stack};

pub mod workload;

/// The resource types of the transformed template that moto's CloudFormation does not
/// create (it skips them with a warning). What they promise is checked by cfn-lint, `sam
/// validate --lint` and `q2c-template-lint` instead (docs/infra.md, "Stack rehearsal").
pub const MOTO_SKIPS: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::SQS::QueuePolicy",
];

/// The function behind the HTTP API.
pub const API_FUNCTION: &str = "QuoteApiFunction";
/// The SSM parameter the template names by default, and what the operator stores in it.
pub const CREDENTIAL_PARAMETER: &str = "/q2c/order-management/credential";
const CREDENTIAL: &str = "rehearsal-oms-token";
/// Rounds of "drain every mapping" before the pipeline must have settled.
const MAX_ROUNDS: usize = 12;
/// The tenant of the scenario.
const TENANT: &str = "acme";
const SCOPES: &str =
    "quote.read quote.write quote.approve hub.write catalog.read catalog.write order.read";
/// The new amount of `mobile-l-monthly` (EUR 30 in the sample catalog).
const NEW_PRICE: &str = "37.25";
const QUOTES: &str = "/tmf-api/quoteManagement/v4";
const CATALOG: &str = "/tmf-api/productCatalogManagement/v4";
const ORDERING: &str = "/tmf-api/productOrderingManagement/v4";

/// What a passing rehearsal did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The steps, in order.
    pub steps: Vec<String>,
    /// Invocations per function (by `FunctionName`).
    pub invocations: BTreeMap<String, usize>,
    /// EMF metric sums per function: function name → metric → sum.
    pub metrics: BTreeMap<String, BTreeMap<String, u64>>,
    /// What moto did not create (logical id → type).
    pub skipped: BTreeMap<String, String>,
    /// Deploy time.
    pub deploy: Duration,
    /// Scenario time (after the deploy).
    pub scenario: Duration,
}

/// An API answer.
#[derive(Debug, Clone)]
pub struct ApiAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The body, parsed (`Null` when empty or not JSON).
    pub body: Value,
}

/// One stack with its functions running and its mappings ready to play.
pub struct Rehearsal {
    stack: Stack,
    endpoint: String,
    functions: BTreeMap<String, FunctionProcess>,
    sqs: Vec<(String, SqsMapping)>,
    streams: Vec<(String, StreamMapping)>,
    oms: FakeOrderManagement,
    operator: aws_config::SdkConfig,
    report: Report,
    requests: u64,
    journal: PathBuf,
    journal_seen: usize,
}

impl Rehearsal {
    /// Deploys `options` (plus the fake order management's URL and the SSM credential) in
    /// `moto` with IAM enforced, and starts every function of the stack.
    ///
    /// # Errors
    /// [`RehearsalError`] when the deploy fails, a bootstrap is missing, or a mapping reads
    /// something the harness cannot play.
    pub async fn start(
        moto: &MotoServer,
        options: DeployOptions,
        workdir: &Path,
    ) -> Result<Rehearsal, RehearsalError> {
        let bootstraps = Bootstraps::locate()?;
        let journal_seen = moto.journal().len();
        let oms = FakeOrderManagement::start(workdir).await?;
        let options = options
            .parameter("DownstreamOrderApiUrl", &oms.base_url)
            .ssm_secret(CREDENTIAL_PARAMETER, CREDENTIAL)
            .enforce_iam(true);
        let started = Instant::now();
        let stack = Stack::deploy(moto.endpoint(), &options).await?;
        let deploy = started.elapsed();
        let harness = HarnessEnv {
            endpoint: moto.endpoint().to_owned(),
            ca_file: Some(oms.ca_file.clone()),
        };
        let mut functions = BTreeMap::new();
        for logical_id in stack.functions().keys() {
            let process = FunctionProcess::start(&stack, logical_id, &bootstraps, &harness).await?;
            functions.insert(logical_id.clone(), process);
        }
        let mut sqs = Vec::new();
        let mut streams = Vec::new();
        for (logical_id, spec) in stack.mappings() {
            let function = spec
                .function
                .as_ref()
                .and_then(|f| functions.get(f))
                .ok_or_else(|| {
                    RehearsalError::Template(format!(
                        "mapping {logical_id} invokes {}, no function of the stack",
                        spec.function_arn
                    ))
                })?;
            let declared = Declared {
                stack: &stack,
                endpoint: moto.endpoint(),
                spec,
                function,
            };
            let service = spec.source_arn.split(':').nth(2).unwrap_or_default();
            match service {
                "sqs" => sqs.push((
                    function.logical_id.clone(),
                    SqsMapping::new(&declared).await?,
                )),
                "dynamodb" => streams.push((
                    function.logical_id.clone(),
                    StreamMapping::new(&declared).await?,
                )),
                other => {
                    return Err(RehearsalError::Template(format!(
                        "mapping {logical_id} reads {other}, which the rehearsal does not play"
                    )));
                }
            }
        }
        let operator = stack.sdk_config(moto.endpoint(), &stack.operator).await;
        let report = Report {
            skipped: stack.skipped().clone(),
            deploy,
            ..Report::default()
        };
        Ok(Rehearsal {
            stack,
            endpoint: moto.endpoint().to_owned(),
            functions,
            sqs,
            streams,
            oms,
            operator,
            report,
            requests: 0,
            journal: moto.journal_file().to_path_buf(),
            journal_seen,
        })
    }

    /// The stack.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The running function `logical_id`.
    pub fn function(&self, logical_id: &str) -> Option<&FunctionProcess> {
        self.functions.get(logical_id)
    }

    /// The moto endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Runs the scenario.
    ///
    /// # Errors
    /// [`RehearsalError::Step`] at the first step that fails, naming it and the cause.
    pub async fn run(mut self) -> Result<Report, RehearsalError> {
        let started = Instant::now();
        let result = self.scenario().await;
        self.finish(started, result).await
    }

    /// Ends a run: the failure with what moto refused meanwhile, the functions' metric sums,
    /// the functions stopped.
    pub(crate) async fn finish(
        mut self,
        started: Instant,
        result: Result<(), RehearsalError>,
    ) -> Result<Report, RehearsalError> {
        let result = result.map_err(|error| match error {
            RehearsalError::Step {
                step, cause, logs, ..
            } => RehearsalError::Step {
                step,
                cause,
                logs,
                refused: read_journal(&self.journal)
                    .into_iter()
                    .skip(self.journal_seen)
                    .collect(),
            },
            other => other,
        });
        for function in self.functions.values() {
            let mut sums = BTreeMap::new();
            for line in function.emf() {
                for definition in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(name) = definition["Name"].as_str() {
                        *sums.entry(name.to_owned()).or_insert(0) +=
                            line[name].as_u64().unwrap_or(0);
                    }
                }
            }
            self.report.metrics.insert(function.spec.name.clone(), sums);
        }
        self.report.scenario = started.elapsed();
        for function in std::mem::take(&mut self.functions).into_values() {
            function.stop().await;
        }
        result.map(|()| self.report)
    }

    async fn scenario(&mut self) -> Result<(), RehearsalError> {
        self.seed_catalog().await?;

        self.get("/health", "GET /health (no authorizer)").await?;

        // Quote events of this tenant go to its subscriber queue by rule; no stack queue may
        // be a callback.
        let billing_url = self.stack.output("BillingUpdatesQueueUrl")?.to_owned();
        let subscriber_url = self.subscribe_by_rule(&billing_url, TENANT).await?;
        let subscriber_name = queue_name(&subscriber_url);

        // The lifecycle: create two quotes, approve and accept the first.
        let accepted = self.create_quote("mobile-l", 2).await?;
        let open = self.create_quote("mobile-l", 1).await?;
        for state in ["approved", "accepted"] {
            let answer = self
                .api(
                    "PATCH",
                    &format!("{QUOTES}/quote/{accepted}"),
                    Some(json!({ "state": state })),
                    None,
                )
                .await?;
            expect_status(&format!("move quote {accepted} to {state}"), &answer, 200)?;
        }
        self.settle("the quote lifecycle and the order dispatch")
            .await?;

        // The order: dispatched to order management, with the stack's credential.
        let orders = self
            .get(
                &format!("{ORDERING}/productOrder?limit=100"),
                "list product orders",
            )
            .await?;
        let order = orders
            .body
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["quote"][0]["id"] == accepted.as_str())
            .cloned()
            .ok_or_else(|| {
                step(
                    "find the order of the accepted quote",
                    format!("not in {}", orders.body),
                )
            })?;
        let order_id = order["id"].as_str().unwrap_or_default().to_owned();
        let received = self.oms.received();
        let sent = received
            .iter()
            .filter(|o| o.body["externalId"] == order_id.as_str())
            .collect::<Vec<_>>();
        if sent.len() != 1 {
            return Err(step(
                "order dispatch",
                format!(
                    "order management received {} POSTs of order {order_id} (all: {received:?})",
                    sent.len()
                ),
            ));
        }
        if sent[0].authorization.as_deref() != Some(&format!("Bearer {CREDENTIAL}")) {
            return Err(step(
                "order dispatch",
                format!(
                    "order management got Authorization {:?}, not the SSM credential",
                    sent[0].authorization
                ),
            ));
        }
        let fetched = self
            .get(
                &format!("{ORDERING}/productOrder/{order_id}"),
                "read the order",
            )
            .await?;
        if fetched.body["dispatch"]["status"] != "dispatched" {
            return Err(step(
                "order dispatch",
                format!("the order's dispatch is {}", fetched.body["dispatch"]),
            ));
        }
        self.note(format!(
            "order {order_id} dispatched once, with the SSM credential"
        ));

        // Hub delivery: the subscriber queue got the accepted quote's state changes.
        let delivered = self.receive_all(&subscriber_url).await?;
        let states: Vec<&str> = delivered
            .iter()
            .filter(|m| {
                m["eventType"] == "QuoteStateChangeEvent"
                    && m["event"]["quote"]["id"] == accepted.as_str()
            })
            .filter_map(|m| m["event"]["quote"]["state"].as_str())
            .collect();
        if !(states.contains(&"approved") && states.contains(&"accepted")) {
            return Err(step(
                "hub delivery to the subscriber queue",
                format!(
                    "the accepted quote's state changes delivered: {states:?} (messages: {delivered:?})"
                ),
            ));
        }
        self.note(format!(
            "{subscriber_name} got the quote's state changes {states:?}"
        ));

        // The price change: posted to the TMF620 listener, applied, announced, re-priced.
        let price = self
            .get(
                &format!("{CATALOG}/productOfferingPrice/mobile-l-monthly"),
                "read price mobile-l-monthly",
            )
            .await?;
        let before = self.quote_total(&open).await?;
        let mut changed = price.body.clone();
        // A literal, not arithmetic on the old amount: money is never a float here.
        let new_value = new_price()?;
        if changed["price"]["value"] == new_value {
            return Err(step(
                "price change",
                format!("the price already is {NEW_PRICE}"),
            ));
        }
        changed["price"]["value"] = new_value;
        changed["lastUpdate"] = json!("2031-01-01T00:00:00Z");
        let event_id = format!("rehearsal-price-{}", uuid::Uuid::new_v4().simple());
        let event = json!({
            "eventId": event_id,
            "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
            "eventTime": "2031-01-01T00:00:00Z",
            "event": {"productOfferingPrice": changed},
        });
        let posted = self
            .api(
                "POST",
                &format!("{CATALOG}/listener/productOfferingPriceAttributeValueChangeEvent"),
                Some(event),
                None,
            )
            .await?;
        expect_status("post the price change to the TMF620 listener", &posted, 201)?;
        self.settle("the price change").await?;
        let stored = self
            .api(
                "GET",
                &format!("{CATALOG}/productOfferingPrice/mobile-l-monthly"),
                None,
                None,
            )
            .await?;
        if stored.body["price"]["value"] != new_price()? {
            return Err(step(
                "price change",
                format!(
                    "the catalog holds {} after the change to {NEW_PRICE}",
                    stored.body["price"]
                ),
            ));
        }
        // The open quote holds one mobile-l: its monthly total before tax is the new price.
        let after = self.quote_total(&open).await?;
        let monthly = after
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["priceType"] == "recurring")
            .map(|t| t["price"]["dutyFreeAmount"]["value"].clone());
        if monthly != Some(new_price()?) {
            return Err(step(
                "price change",
                format!("open quote {open} was not re-priced to {NEW_PRICE}: {before} -> {after}"),
            ));
        }
        self.note(format!("open quote {open} re-priced: {before} -> {after}"));
        let billing = self.receive_all(&billing_url).await?;
        if !billing.iter().any(|m| m["eventId"] == event_id.as_str()) {
            return Err(step(
                "price change",
                format!("billing-updates did not get event {event_id} (messages: {billing:?})"),
            ));
        }
        self.note("billing-updates got the price change".to_owned());

        self.expect_empty_dead_letter_queues().await
    }

    /// Seeds the sample catalog, as `q2c catalog import --table` would.
    pub(crate) async fn seed_catalog(&mut self) -> Result<(), RehearsalError> {
        let table = self.stack.output("TableName")?.to_owned();
        let store = q2c_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&self.operator), table);
        let catalog = q2c_model::sample_catalog::sample_catalog();
        for offering in catalog.offerings() {
            store
                .put_offering(offering)
                .await
                .map_err(|e| step("seed the catalog", format!("{e:?}")))?;
        }
        for price in catalog.prices() {
            store
                .put_price(price)
                .await
                .map_err(|e| step("seed the catalog", format!("{e:?}")))?;
        }
        self.note("catalog seeded".to_owned());
        Ok(())
    }

    async fn create_quote(
        &mut self,
        offering: &str,
        quantity: u32,
    ) -> Result<String, RehearsalError> {
        let answer = self
            .api(
                "POST",
                &format!("{QUOTES}/quote"),
                Some(json!({
                    "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
                    "quoteItem": [{"id": "1", "action": "add", "quantity": quantity, "productOffering": {"id": offering}}],
                })),
                None,
            )
            .await?;
        expect_status(
            &format!("create a quote of {quantity} x {offering}"),
            &answer,
            201,
        )?;
        let id = answer.body["id"].as_str().unwrap_or_default().to_owned();
        self.note(format!("quote {id} created"));
        Ok(id)
    }

    async fn quote_total(&mut self, id: &str) -> Result<Value, RehearsalError> {
        let answer = self
            .get(&format!("{QUOTES}/quote/{id}"), &format!("read quote {id}"))
            .await?;
        Ok(answer.body["quoteTotalPrice"].clone())
    }

    /// `GET path`, which must answer 200 (`what` names it in the error).
    async fn get(&mut self, path: &str, what: &str) -> Result<ApiAnswer, RehearsalError> {
        let answer = self.api("GET", path, None, None).await?;
        expect_status(what, &answer, 200)?;
        Ok(answer)
    }

    /// Plays every mapping until a whole round moves nothing.
    pub(crate) async fn settle(&mut self, what: &str) -> Result<(), RehearsalError> {
        for round in 1..=MAX_ROUNDS {
            // Each mapping drained once, as (function name, what it did).
            let mut drained = Vec::new();
            for (logical_id, mapping) in &mut self.streams {
                let function = function_of(&mut self.functions, logical_id)?;
                drained.push((function.spec.name.clone(), mapping.drain(function).await?));
            }
            for (logical_id, mapping) in &self.sqs {
                let function = function_of(&mut self.functions, logical_id)?;
                drained.push((function.spec.name.clone(), mapping.drain(function).await?));
            }
            let mut moved = 0;
            for (name, drained) in drained {
                moved += drained.records;
                *self.report.invocations.entry(name).or_default() += drained.batches;
            }
            if moved == 0 {
                self.note(format!("{what}: settled after {round} round(s)"));
                return Ok(());
            }
        }
        Err(step(
            what,
            format!("still moving after {MAX_ROUNDS} rounds of every mapping"),
        ))
    }

    /// Creates `tenant`'s subscriber queue and registers a hub of its quote state changes on
    /// it; the queue's URL. The queue is named by rule from the billing queue's URL
    /// (`<Prefix>-subscriber-<tenant>`, the default SubscriberQueuePrefix) and created by the
    /// operator, outside the stack.
    async fn subscribe_by_rule(
        &mut self,
        billing_url: &str,
        tenant: &str,
    ) -> Result<String, RehearsalError> {
        let subscriber_url =
            billing_url.replace("billing-updates", &format!("subscriber-{tenant}"));
        aws_sdk_sqs::Client::new(&self.operator)
            .create_queue()
            .queue_name(queue_name(&subscriber_url))
            .send()
            .await
            .map_err(|e| {
                step(
                    &format!("create tenant {tenant}'s subscriber queue"),
                    sdk_error(&e),
                )
            })?;
        let hub = self
            .api_as(
                tenant,
                "POST",
                &format!("{QUOTES}/hub"),
                Some(
                    json!({"callback": subscriber_url, "query": "eventType=QuoteStateChangeEvent"}),
                ),
                None,
            )
            .await?;
        expect_status(
            &format!("register tenant {tenant}'s hub on its subscriber queue"),
            &hub,
            201,
        )?;
        Ok(subscriber_url)
    }

    /// Sends an API Gateway HTTP API (payload 2.0) request to the API function, as the stack's
    /// JWT authorizer would pass it: claims of tenant `acme` with every scope the scenario uses.
    pub async fn api(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        scopes: Option<&str>,
    ) -> Result<ApiAnswer, RehearsalError> {
        self.api_as(TENANT, method, path, body, scopes).await
    }

    /// [`Rehearsal::api`] with the claims of `tenant`.
    pub async fn api_as(
        &mut self,
        tenant: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        scopes: Option<&str>,
    ) -> Result<ApiAnswer, RehearsalError> {
        self.requests += 1;
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let host = "rehearsal.execute-api.eu-west-1.amazonaws.com";
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let authorizer = if path_only == "/health" {
            Value::Null
        } else {
            json!({"jwt": {"claims": {
                "sub": "rehearsal", "tenant": tenant, "scope": scopes.unwrap_or(SCOPES),
                "iss": "https://issuer.example.com/", "aud": "q2c-api"}, "scopes": null}})
        };
        let route = if path_only == "/health" {
            "GET /health"
        } else {
            "ANY /tmf-api/{proxy+}"
        };
        let event = json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": path_only,
            "rawQueryString": query,
            "headers": {
                "accept": "application/json",
                "authorization": "Bearer rehearsal",
                "host": host,
                "content-type": content_type,
                "x-correlation-id": format!("rehearsal-{}", self.requests),
                "x-forwarded-proto": "https",
            },
            "requestContext": {
                "accountId": self.stack.account,
                "apiId": "rehearsal",
                "authorizer": authorizer,
                "domainName": host,
                "domainPrefix": "rehearsal",
                "http": {"method": method, "path": path_only, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10", "userAgent": "q2c-stack-rehearsal"},
                "requestId": format!("rehearsal-{}", self.requests),
                "routeKey": route,
                "stage": "$default",
                "time": "01/Jan/2031:00:00:00 +0000",
                "timeEpoch": 1_924_992_000_000_u64,
            },
            "isBase64Encoded": false,
            "body": body.map(|b| b.to_string()),
        });
        let arn = self.invoke_arn(API_FUNCTION);
        let function = function_of(&mut self.functions, API_FUNCTION)?;
        let response =
            function
                .invoke(event, arn.as_deref())
                .await
                .map_err(|e| RehearsalError::Step {
                    step: format!("{method} {path}"),
                    cause: e.to_string(),
                    logs: function.problems(),
                    refused: Vec::new(),
                })?;
        *self
            .report
            .invocations
            .entry(function.spec.name.clone())
            .or_default() += 1;
        let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
        let text = response["body"].as_str().unwrap_or_default();
        let text = if response["isBase64Encoded"] == true {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            text.to_owned()
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status >= 500 {
            return Err(RehearsalError::Step {
                step: format!("{method} {path}"),
                cause: format!("answered {status}: {body}"),
                logs: function.problems(),
                refused: Vec::new(),
            });
        }
        Ok(ApiAnswer { status, body })
    }

    /// The ARN the API integration invokes: the function's alias when the stack publishes
    /// one (AutoPublishAlias), else the function.
    fn invoke_arn(&self, logical_id: &str) -> Option<String> {
        let arn = &self.stack.function(logical_id).ok()?.arn;
        self.stack
            .resources()
            .values()
            .filter(|r| r.kind == "AWS::Lambda::Alias")
            .map(|r| r.physical_id.clone())
            .find(|alias| alias.starts_with(&format!("{arn}:")))
    }

    /// Receives (and deletes) every message on `queue_url`, bodies parsed.
    async fn receive_all(&self, queue_url: &str) -> Result<Vec<Value>, RehearsalError> {
        let sqs = aws_sdk_sqs::Client::new(&self.operator);
        let mut bodies = Vec::new();
        loop {
            let received = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| step(&format!("read {queue_url}"), sdk_error(&e)))?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(bodies);
            }
            for message in messages {
                bodies.push(
                    serde_json::from_str(message.body().unwrap_or("null")).unwrap_or(Value::Null),
                );
                let _ = sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await;
            }
        }
    }

    /// Every DLQ and the stream's failure destination are empty: nothing was dead-lettered.
    async fn expect_empty_dead_letter_queues(&mut self) -> Result<(), RehearsalError> {
        let sqs = aws_sdk_sqs::Client::new(&self.operator);
        let dead_letter: Vec<String> = self
            .stack
            .outputs()
            .iter()
            .filter(|(k, _)| k.ends_with("DlqUrl") || *k == "OutboxRelayFailuresQueueUrl")
            .map(|(_, v)| v.clone())
            .collect();
        if dead_letter.is_empty() {
            return Err(step(
                "dead-letter queues",
                "the stack outputs no DLQ URL".to_owned(),
            ));
        }
        for url in &dead_letter {
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send()
                .await
                .map_err(|e| step(&format!("read {url}"), sdk_error(&e)))?;
            let count = attributes
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                })
                .cloned()
                .unwrap_or_default();
            if count != "0" {
                return Err(step(
                    "dead-letter queues",
                    format!("{url} holds {count} messages"),
                ));
            }
        }
        self.note(format!("{} dead-letter queues empty", dead_letter.len()));
        Ok(())
    }

    pub(crate) fn note(&mut self, what: String) {
        self.report.steps.push(what);
    }
}

fn new_price() -> Result<Value, RehearsalError> {
    serde_json::from_str(NEW_PRICE).map_err(|e| step("price change", e.to_string()))
}

/// The name of the queue at `url` (its last path segment).
fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

pub(crate) fn step(step: &str, cause: String) -> RehearsalError {
    RehearsalError::Step {
        step: step.to_owned(),
        cause,
        logs: Vec::new(),
        refused: Vec::new(),
    }
}

/// The running function of the stack's `logical_id`.
fn function_of<'f>(
    functions: &'f mut BTreeMap<String, FunctionProcess>,
    logical_id: &str,
) -> Result<&'f mut FunctionProcess, RehearsalError> {
    functions
        .get_mut(logical_id)
        .ok_or_else(|| RehearsalError::Template(format!("the stack has no function {logical_id}")))
}

pub(crate) fn expect_status(
    what: &str,
    answer: &ApiAnswer,
    status: u16,
) -> Result<(), RehearsalError> {
    if answer.status == status {
        Ok(())
    } else {
        Err(step(
            what,
            format!(
                "answered {} (expected {status}): {}",
                answer.status, answer.body
            ),
        ))
    }
}
