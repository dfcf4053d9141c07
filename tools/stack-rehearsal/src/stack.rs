//! The stack as `infra/template.yaml` makes it, in moto: the one module that reads the
//! template (through `moto_stack.py`, i.e. aws-sam-translator and moto's CloudFormation).
//!
//! - [`transform`]: the SAM template as CloudFormation JSON, offline.
//! - [`Stack::deploy`]: the template created as a stack; the answer is a [`Stack`] with the
//!   outputs, the physical resources, what moto did not create ([`Stack::skipped`]), each
//!   function as the stack configured it ([`FunctionSpec`]: environment, timeout, its role's
//!   credentials) and each event source mapping as the stack declares it ([`MappingSpec`]),
//!   disabled in moto so that a harness plays it.
//!
//! Nothing here knows q2c's resource names beyond the defaults of [`DeployOptions::new`]:
//! a test that needs the template's queues and table asks the stack for them
//! ([`Stack::output`], [`Stack::physical_id`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::RehearsalError;
use crate::moto::{python, repo_root, script};

/// A change to the SAM template before it is transformed: how tests break it on purpose.
///
/// Pointers are JSON pointers into the template (short-form tags already in long form,
/// e.g. `{"Fn::GetAtt": ["Table", "Arn"]}`); a segment `[Key=Value]` selects the list element
/// whose `Key` is `Value`, e.g. `/Resources/OrdersRole/Properties/Policies/0/PolicyDocument/Statement/[Sid=Table]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Removes the member or element at the pointer.
    Remove(String),
    /// Sets the member or element at the pointer to the value.
    Set(String, Value),
}

impl Edit {
    fn to_json(&self) -> Value {
        match self {
            Edit::Remove(pointer) => json!({ "remove": pointer }),
            Edit::Set(pointer, value) => json!({ "set": pointer, "value": value }),
        }
    }
}

/// What to deploy, and how.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The stack name (also the prefix of generated physical names).
    pub stack_name: String,
    /// The SAM template.
    pub template: PathBuf,
    /// Parameter values (the others keep their defaults).
    pub parameters: BTreeMap<String, String>,
    /// Edits applied before the transform.
    pub edits: Vec<Edit>,
    /// SSM SecureStrings created before the stack, as an operator does before a first deploy.
    pub ssm_secrets: BTreeMap<String, String>,
    /// Enforce IAM after the deploy: every request is checked against its signer's policies.
    pub enforce_iam: bool,
}

impl DeployOptions {
    /// `infra/template.yaml` as stack `stack_name`, with `Prefix` = `stack_name` and the one
    /// parameter without a default (`AlarmTopicArn`) set to a placeholder topic.
    pub fn new(stack_name: &str) -> Self {
        let mut parameters = BTreeMap::new();
        parameters.insert("Prefix".to_owned(), stack_name.to_owned());
        parameters.insert(
            "AlarmTopicArn".to_owned(),
            "arn:aws:sns:eu-west-1:123456789012:q2c-alarms".to_owned(),
        );
        DeployOptions {
            stack_name: stack_name.to_owned(),
            template: repo_root().join("infra/template.yaml"),
            parameters,
            edits: Vec::new(),
            ssm_secrets: BTreeMap::new(),
            enforce_iam: false,
        }
    }

    /// Sets parameter `name`.
    pub fn parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Adds an edit.
    pub fn edit(mut self, edit: Edit) -> Self {
        self.edits.push(edit);
        self
    }

    /// Creates the SSM SecureString `name` before the stack.
    pub fn ssm_secret(mut self, name: &str, value: &str) -> Self {
        self.ssm_secrets.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Enforces IAM once the stack exists.
    pub fn enforce_iam(mut self, on: bool) -> Self {
        self.enforce_iam = on;
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for (name, value) in &self.parameters {
            args.push("--param".to_owned());
            args.push(format!("{name}={value}"));
        }
        for edit in &self.edits {
            args.push("--edit".to_owned());
            args.push(edit.to_json().to_string());
        }
        args
    }
}

/// AWS credentials as the manifest carries them.
#[derive(Debug, Clone, Deserialize)]
pub struct Keys {
    /// The access key id.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: String,
    /// The session token of temporary (assumed-role) credentials.
    #[serde(default)]
    pub session_token: Option<String>,
}

/// A function as the stack configured it.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionSpec {
    /// `FunctionName`, e.g. `q2c-quote-api`.
    pub name: String,
    /// The function ARN (unqualified).
    pub arn: String,
    /// The execution role.
    pub role_arn: String,
    /// The runtime, e.g. `provided.al2023`.
    pub runtime: Option<String>,
    /// The handler, `bootstrap` for a custom runtime.
    pub handler: Option<String>,
    /// Seconds.
    pub timeout: u64,
    /// MB.
    pub memory: u64,
    /// `arm64` or `x86_64`.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// `LoggingConfig.LogGroup`.
    pub log_group: Option<String>,
    /// `ReservedConcurrentExecutions`, when set.
    pub reserved_concurrency: Option<u64>,
    /// The environment variables as the stack set them.
    pub environment: BTreeMap<String, String>,
    /// Temporary credentials of the execution role (`sts:AssumeRole`, as Lambda does).
    pub credentials: Keys,
}

/// An event source mapping as the stack declares it.
#[derive(Debug, Clone, Deserialize)]
pub struct MappingSpec {
    /// The mapping's UUID.
    pub uuid: String,
    /// The logical id of the function it invokes.
    pub function: Option<String>,
    /// The ARN it invokes (an alias ARN with `AutoPublishAlias`).
    pub function_arn: String,
    /// The queue or stream ARN.
    pub source_arn: String,
    /// `BatchSize`.
    pub batch_size: Option<u32>,
    /// `MaximumBatchingWindowInSeconds`.
    #[serde(default)]
    pub maximum_batching_window_seconds: u32,
    /// `StartingPosition` (streams).
    pub starting_position: Option<String>,
    /// `FilterCriteria.Filters[].Pattern`.
    #[serde(default)]
    pub filter_patterns: Vec<String>,
    /// `FunctionResponseTypes`.
    #[serde(default)]
    pub function_response_types: Vec<String>,
    /// `BisectBatchOnFunctionError`.
    #[serde(default)]
    pub bisect_batch_on_function_error: bool,
    /// `MaximumRetryAttempts`.
    pub maximum_retry_attempts: Option<i64>,
    /// `MaximumRecordAgeInSeconds`.
    pub maximum_record_age_seconds: Option<i64>,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure_destination: Option<String>,
    /// `ScalingConfig.MaximumConcurrency`.
    pub maximum_concurrency: Option<u32>,
}

impl MappingSpec {
    /// Whether the function's `batchItemFailures` count (`ReportBatchItemFailures`).
    pub fn reports_batch_item_failures(&self) -> bool {
        self.function_response_types
            .iter()
            .any(|t| t == "ReportBatchItemFailures")
    }
}

/// A resource the stack created.
#[derive(Debug, Clone, Deserialize)]
pub struct StackResource {
    /// The CloudFormation type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The physical id (a queue URL, a table name, a function name, ...).
    pub physical_id: String,
}

/// The stack, as moto created it from the template.
#[derive(Debug, Clone, Deserialize)]
pub struct Stack {
    /// The stack name.
    pub stack: String,
    /// The region.
    pub region: String,
    /// The account.
    pub account: String,
    /// The parameter values given (the others are the template's defaults).
    pub parameters: BTreeMap<String, String>,
    outputs: BTreeMap<String, String>,
    resources: BTreeMap<String, StackResource>,
    skipped: BTreeMap<String, String>,
    functions: BTreeMap<String, FunctionSpec>,
    mappings: BTreeMap<String, MappingSpec>,
    /// An administrator's keys, for what the harness does itself (seeding, observing).
    pub operator: Keys,
    /// Whether IAM is enforced.
    pub iam_enforced: bool,
}

impl Stack {
    /// Creates the stack in the moto server at `endpoint`. One deploy at a time per server:
    /// each turns IAM enforcement off while it sets up, and renews the operator's keys.
    ///
    /// # Errors
    /// [`RehearsalError::Deploy`] with the helper's message when the template does not
    /// transform, an edit does not apply, or the stack does not reach `CREATE_COMPLETE`.
    pub async fn deploy(endpoint: &str, options: &DeployOptions) -> Result<Stack, RehearsalError> {
        let mut command = Command::new(python()?);
        command
            .arg(script())
            .arg("deploy")
            .args(["--endpoint", endpoint])
            .arg("--template")
            .arg(&options.template)
            .args(["--stack", &options.stack_name])
            .args(options.args());
        for (name, value) in &options.ssm_secrets {
            command.args(["--ssm-secret", &format!("{name}={value}")]);
        }
        if options.enforce_iam {
            command.arg("--enforce-iam");
        }
        let stdout = run(command, "deploy").await?;
        serde_json::from_slice(&stdout)
            .map_err(|e| RehearsalError::Deploy(format!("the deploy manifest does not parse: {e}")))
    }

    /// The output `key` (`TableName`, `OrdersQueueUrl`, ...).
    ///
    /// # Errors
    /// [`RehearsalError::Template`] naming the output when the stack has none of that name.
    pub fn output(&self, key: &str) -> Result<&str, RehearsalError> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| RehearsalError::Template(format!("the stack has no output {key}")))
    }

    /// Every output.
    pub fn outputs(&self) -> &BTreeMap<String, String> {
        &self.outputs
    }

    /// The physical id of the resource `logical_id`.
    ///
    /// # Errors
    /// [`RehearsalError::Template`] when the stack has no such resource.
    pub fn physical_id(&self, logical_id: &str) -> Result<&str, RehearsalError> {
        self.resources
            .get(logical_id)
            .map(|r| r.physical_id.as_str())
            .ok_or_else(|| {
                RehearsalError::Template(format!("the stack has no resource {logical_id}"))
            })
    }

    /// Every resource moto created, by logical id.
    pub fn resources(&self) -> &BTreeMap<String, StackResource> {
        &self.resources
    }

    /// The resources of the transformed template that moto's CloudFormation does not
    /// create (logical id → type): checked by template-lint and cfn-lint instead.
    pub fn skipped(&self) -> &BTreeMap<String, String> {
        &self.skipped
    }

    /// The function `logical_id` (e.g. `OrderDispatchFunction`).
    ///
    /// # Errors
    /// [`RehearsalError::Template`] when the stack has no such function.
    pub fn function(&self, logical_id: &str) -> Result<&FunctionSpec, RehearsalError> {
        self.functions.get(logical_id).ok_or_else(|| {
            RehearsalError::Template(format!("the stack has no function {logical_id}"))
        })
    }

    /// Every function, by logical id.
    pub fn functions(&self) -> &BTreeMap<String, FunctionSpec> {
        &self.functions
    }

    /// The event source mappings invoking the function `logical_id`.
    pub fn mappings_of(&self, logical_id: &str) -> Vec<&MappingSpec> {
        self.mappings
            .values()
            .filter(|m| m.function.as_deref() == Some(logical_id))
            .collect()
    }

    /// Every event source mapping, by logical id.
    pub fn mappings(&self) -> &BTreeMap<String, MappingSpec> {
        &self.mappings
    }

    /// An SDK configuration for moto at `endpoint` signed with `keys`.
    pub async fn sdk_config(&self, endpoint: &str, keys: &Keys) -> SdkConfig {
        let credentials = Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            keys.session_token.clone(),
            None,
            "q2c-stack-rehearsal",
        );
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .load()
            .await
    }
}

/// The SAM template at `template`, with `parameters` and `edits`, as CloudFormation JSON:
/// the transform `sam` runs, done offline by aws-sam-translator.
///
/// # Errors
/// [`RehearsalError::Deploy`] with the translator's message.
pub async fn transform(
    template: &Path,
    parameters: &BTreeMap<String, String>,
    edits: &[Edit],
) -> Result<Value, RehearsalError> {
    let options = DeployOptions {
        stack_name: String::new(),
        template: template.to_path_buf(),
        parameters: parameters.clone(),
        edits: edits.to_vec(),
        ssm_secrets: BTreeMap::new(),
        enforce_iam: false,
    };
    let mut command = Command::new(python()?);
    command
        .arg(script())
        .arg("transform")
        .arg(template)
        .args(options.args());
    let stdout = run(command, "transform").await?;
    serde_json::from_slice(&stdout).map_err(|e| {
        RehearsalError::Deploy(format!("the transformed template does not parse: {e}"))
    })
}

async fn run(mut command: Command, what: &str) -> Result<Vec<u8>, RehearsalError> {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| RehearsalError::Setup(format!("cannot run moto_stack.py {what}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The helper's own message is its last line (SystemExit or the exception).
        let reason = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(RehearsalError::Deploy(format!(
            "moto_stack.py {what} failed: {reason}"
        )));
    }
    Ok(output.stdout)
}
