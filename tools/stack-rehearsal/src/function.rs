//! A built bootstrap run the way Lambda runs it: its own Runtime API, the environment the
//! stack gives the function plus what Lambda itself sets (name, memory, region, the role's
//! temporary credentials), and nothing from the test's environment. The harness adds
//! exactly two variables Lambda would not: `AWS_ENDPOINT_URL` (moto) and `SSL_CERT_FILE`
//! (the fake order management's certificate authority).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::RehearsalError;
use crate::freshness;
use crate::runtime_api::{FakeRuntimeApi, Reported};
use crate::stack::{FunctionSpec, Stack};

/// What only the harness adds to a function's environment.
#[derive(Debug, Clone)]
pub struct HarnessEnv {
    /// `AWS_ENDPOINT_URL`: the moto server.
    pub endpoint: String,
    /// `SSL_CERT_FILE`: the certificate authority the function must trust (the fake order
    /// management's), if any.
    pub ca_file: Option<PathBuf>,
}

/// The built bootstraps: `Q2C_REHEARSAL_BOOTSTRAP_DIR`, else the directory the running test
/// was built into (`target/debug`), where `cargo test --workspace` leaves every function's
/// binary.
#[derive(Debug, Clone)]
pub struct Bootstraps {
    dir: PathBuf,
}

impl Bootstraps {
    /// Finds the directory.
    ///
    /// # Errors
    /// [`RehearsalError::Setup`] when the test's own location is unknown.
    pub fn locate() -> Result<Self, RehearsalError> {
        if let Some(dir) = std::env::var_os("Q2C_REHEARSAL_BOOTSTRAP_DIR") {
            return Ok(Bootstraps {
                dir: PathBuf::from(dir),
            });
        }
        // target/debug/deps/<test> → target/debug
        let exe = std::env::current_exe()
            .map_err(|e| RehearsalError::Setup(format!("where is this test? {e}")))?;
        let dir = exe.parent().and_then(Path::parent).ok_or_else(|| {
            RehearsalError::Setup(format!("no build directory above {}", exe.display()))
        })?;
        Ok(Bootstraps {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory searched.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bootstrap of `spec`: the binary named like the function without the stack's
    /// prefix (`q2c-quote-api` → `quote-api`, the template's `Binary`), built no earlier than
    /// the newest source file of its crate and of the workspace crates it depends on.
    ///
    /// # Errors
    /// [`RehearsalError::Setup`] when it is missing or older than its sources (run `cargo
    /// build --bins` first; `cargo test --workspace` builds them).
    pub fn binary(&self, prefix: &str, spec: &FunctionSpec) -> Result<PathBuf, RehearsalError> {
        let name = spec
            .name
            .strip_prefix(&format!("{prefix}-"))
            .unwrap_or(&spec.name);
        let path = self.dir.join(name);
        let built = freshness::modified(&path).ok_or_else(|| {
            RehearsalError::Setup(format!(
                "no bootstrap {} for function {}: build it (cargo build -p q2c-fn-{name}); \
                 `cargo test --workspace` does",
                path.display(),
                spec.name
            ))
        })?;
        let root = crate::moto::repo_root();
        let sources = freshness::source_dirs(&root, &root.join("functions").join(name));
        if let Some((newest, file)) = sources
            .iter()
            .filter_map(|d| freshness::newest_source(d))
            .max()
            && newest > built
        {
            return Err(RehearsalError::Setup(format!(
                "the bootstrap {} is older than {}: rebuild it (cargo build -p q2c-fn-{name})",
                path.display(),
                file.display()
            )));
        }
        Ok(path)
    }
}

/// Why an invocation produced no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// The bootstrap failed its init (`/init/error`), e.g. a missing environment variable.
    #[error("init failed: {0}")]
    Init(String),
    /// The handler returned an error (`/invocation/{id}/error`).
    #[error("the invocation failed: {0}")]
    Function(String),
    /// Nothing came back within the function's timeout.
    #[error("no answer within the function's timeout of {0} s")]
    Timeout(u64),
    /// The process exited without answering.
    #[error("the bootstrap exited ({0})")]
    Exited(String),
}

/// One function's bootstrap, running.
pub struct FunctionProcess {
    /// The function's logical id.
    pub logical_id: String,
    /// The function as the stack configured it.
    pub spec: FunctionSpec,
    runtime: FakeRuntimeApi,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    invocations: u64,
}

impl FunctionProcess {
    /// Starts the bootstrap of `logical_id`.
    ///
    /// # Errors
    /// [`RehearsalError::Template`] when the stack has no such function,
    /// [`RehearsalError::Setup`] when the binary is missing or does not start.
    pub async fn start(
        stack: &Stack,
        logical_id: &str,
        bootstraps: &Bootstraps,
        harness: &HarnessEnv,
    ) -> Result<Self, RehearsalError> {
        let spec = stack.function(logical_id)?.clone();
        let prefix = stack
            .parameters
            .get("Prefix")
            .cloned()
            .unwrap_or_else(|| "q2c".to_owned());
        let binary = bootstraps.binary(&prefix, &spec)?;
        let runtime =
            FakeRuntimeApi::for_function(&spec.arn, Duration::from_secs(spec.timeout)).await;
        let mut command = Command::new(&binary);
        command.env_clear().envs(&spec.environment);
        let log_group = spec
            .log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", spec.name));
        // What Lambda sets in every execution environment.
        command
            .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", spec.memory.to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "rehearsal/[$LATEST]0")
            .env("AWS_REGION", &stack.region)
            .env("AWS_DEFAULT_REGION", &stack.region)
            .env("_HANDLER", spec.handler.as_deref().unwrap_or("bootstrap"))
            .env("TZ", ":UTC")
            .env("AWS_ACCESS_KEY_ID", &spec.credentials.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &spec.credentials.secret_access_key);
        if let Some(token) = &spec.credentials.session_token {
            command.env("AWS_SESSION_TOKEN", token);
        }
        // What only the harness adds.
        command.env("AWS_ENDPOINT_URL", &harness.endpoint);
        if let Some(ca) = &harness.ca_file {
            command.env("SSL_CERT_FILE", ca);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                RehearsalError::Setup(format!("cannot start {}: {e}", binary.display()))
            })?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(collect(BufReader::new(stdout), logs.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(collect(BufReader::new(stderr), logs.clone()));
        }
        Ok(FunctionProcess {
            logical_id: logical_id.to_owned(),
            spec,
            runtime,
            child,
            logs,
            invocations: 0,
        })
    }

    /// Invokes the function with `event` through `function_arn` (the ARN a mapping or the
    /// API names; the function's own ARN when `None`) and waits for its answer.
    ///
    /// # Errors
    /// [`InvokeError`] when the init or the handler failed, the timeout passed, or the
    /// process died.
    pub async fn invoke(
        &mut self,
        event: Value,
        function_arn: Option<&str>,
    ) -> Result<Value, InvokeError> {
        self.invocations += 1;
        let id = format!("{}-{}", self.spec.name, self.invocations);
        self.runtime
            .invoke_as(&id, event, function_arn.unwrap_or(&self.spec.arn));
        let timeout = Duration::from_secs(self.spec.timeout + 5);
        let started = std::time::Instant::now();
        loop {
            if let Some(reported) = self.runtime.try_reported(Duration::from_millis(200)).await {
                return match reported {
                    Reported::Response(got, response) if got == id => Ok(response),
                    Reported::Error(got, error) if got == id => {
                        Err(InvokeError::Function(error_message(&error)))
                    }
                    Reported::InitError(error) => Err(InvokeError::Init(error_message(&error))),
                    other => Err(InvokeError::Function(format!(
                        "unexpected report {other:?}"
                    ))),
                };
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(InvokeError::Exited(format!(
                    "{status}; last output: {}",
                    self.tail(5).join(" | ")
                )));
            }
            if started.elapsed() > timeout {
                return Err(InvokeError::Timeout(self.spec.timeout));
            }
        }
    }

    /// Every line the bootstrap printed so far (logs and EMF).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let logs = self.logs();
        logs[logs.len().saturating_sub(n)..].to_vec()
    }

    /// The log lines at level WARN or ERROR (JSON lines with `"level"`).
    pub fn problems(&self) -> Vec<String> {
        self.logs()
            .into_iter()
            .filter(|line| {
                serde_json::from_str::<Value>(line)
                    .is_ok_and(|l| matches!(l["level"].as_str(), Some("WARN" | "ERROR")))
            })
            .collect()
    }

    /// The EMF documents printed so far.
    pub fn emf(&self) -> Vec<Value> {
        self.logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l.get("_aws").is_some())
            .collect()
    }

    /// The sum of EMF metric `name` over every line so far.
    pub fn metric_sum(&self, name: &str) -> u64 {
        self.emf().iter().filter_map(|l| l[name].as_u64()).sum()
    }

    /// Stops the bootstrap.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn collect<R: tokio::io::AsyncRead + Unpin>(
    reader: BufReader<R>,
    logs: Arc<Mutex<Vec<String>>>,
) {
    let mut lines = reader.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut logs) = logs.lock() {
            logs.push(line);
        }
    }
}

/// `errorType: errorMessage` of a Runtime API error document.
fn error_message(error: &Value) -> String {
    match (error["errorType"].as_str(), error["errorMessage"].as_str()) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message.to_owned(),
        _ => error.to_string(),
    }
}
