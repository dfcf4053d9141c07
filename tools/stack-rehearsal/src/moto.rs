//! The rehearsal's own moto server: `moto_stack.py serve`, moto with IAM enforcement by
//! resource for DynamoDB, DynamoDB Streams, SSM and SQS (see the script). A server of its own
//! because enforcement is global to a moto process: the other moto tests sign with dummy keys.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::RehearsalError;

/// The Python helper next to this crate.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_stack.py")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that has moto and aws-sam-translator: `Q2C_PYTHON`, else `.venv/bin/python`
/// of the repository (what `tools/test.sh` installs).
///
/// # Errors
/// [`RehearsalError::Setup`] naming both places when neither exists.
pub fn python() -> Result<PathBuf, RehearsalError> {
    if let Some(path) = std::env::var_os("Q2C_PYTHON") {
        return Ok(PathBuf::from(path));
    }
    let venv = repo_root().join(".venv/bin/python");
    if venv.exists() {
        return Ok(venv);
    }
    Err(RehearsalError::Setup(format!(
        "no Python with moto and aws-sam-translator: run tools/test.sh once (it creates {}) \
         or set Q2C_PYTHON",
        venv.display()
    )))
}

/// Why the rehearsal cannot run on this machine (no [`python`] with moto), for a test to
/// skip on; `None` when it can.
pub fn unavailable() -> Option<String> {
    python().err().map(|e| e.to_string())
}

/// A running moto server, stopped when dropped.
pub struct MotoServer {
    endpoint: String,
    child: Child,
    journal: PathBuf,
    log: PathBuf,
}

impl MotoServer {
    /// Starts `moto_stack.py serve` on a free loopback port and waits until it answers.
    ///
    /// # Errors
    /// [`RehearsalError::Setup`] when the server cannot start or does not answer in 60 s
    /// (with its output).
    pub async fn start() -> Result<Self, RehearsalError> {
        Self::start_with(None).await
    }

    /// [`MotoServer::start`], appending every DynamoDB and SQS request with its answer to
    /// `record` (the capacity model's recording: see `moto_stack.py serve --record`).
    ///
    /// # Errors
    /// As [`MotoServer::start`].
    pub async fn start_recording(record: &Path) -> Result<Self, RehearsalError> {
        Self::start_with(Some(record)).await
    }

    async fn start_with(record: Option<&Path>) -> Result<Self, RehearsalError> {
        let port = free_port()?;
        let base = std::env::temp_dir().join(format!(
            "q2c-rehearsal-moto-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let journal = base.with_extension("jsonl");
        let log = base.with_extension("log");
        let output = std::fs::File::create(&log)
            .map_err(|e| RehearsalError::Setup(format!("cannot create {}: {e}", log.display())))?;
        let errors = output
            .try_clone()
            .map_err(|e| RehearsalError::Setup(format!("cannot share {}: {e}", log.display())))?;
        let mut command = Command::new(python()?);
        command
            .arg(script())
            .args(["serve", "--port", &port.to_string()])
            .arg("--journal")
            .arg(&journal);
        if let Some(record) = record {
            command.arg("--record").arg(record);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(errors))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| RehearsalError::Setup(format!("cannot start moto: {e}")))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().ok().flatten() {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(RehearsalError::Setup(format!(
                    "moto exited ({status}) before answering: {output}"
                )));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(RehearsalError::Setup(format!(
                    "moto did not answer on {endpoint} within 60 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(MotoServer {
            endpoint,
            child,
            journal,
            log,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// moto's own output (kept after the server stops when `Q2C_REHEARSAL_KEEP_LOGS` is set).
    pub fn log_file(&self) -> &Path {
        &self.log
    }

    /// The journal file (see [`MotoServer::journal`]).
    pub fn journal_file(&self) -> &Path {
        &self.journal
    }

    /// What moto refused or did not find so far (see [`read_journal`]): requests IAM denied
    /// and requests naming a queue, table or parameter that does not exist.
    pub fn journal(&self) -> Vec<String> {
        read_journal(&self.journal)
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if std::env::var_os("Q2C_REHEARSAL_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_file(&self.journal);
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The entries of a moto journal file (none when it does not exist yet), each as one
/// sentence: `refused sqs:SendMessage on <arn> to <principal>`, or `<service> <action>:
/// <status> <answer>` for a request naming something that does not exist.
pub fn read_journal(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(journal_sentence).collect())
        .unwrap_or_default()
}

fn journal_sentence(line: &str) -> String {
    let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_owned();
    };
    let text = |key: &str| entry[key].as_str().unwrap_or("?").to_owned();
    if entry.get("refused").is_some() {
        format!(
            "refused {} on {} to {}",
            text("refused"),
            text("resource"),
            text("principal")
        )
    } else {
        format!(
            "{} {}: {} {}",
            text("service"),
            text("action"),
            entry["status"],
            text("answer")
        )
    }
}

fn free_port() -> Result<u16, RehearsalError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| RehearsalError::Setup(format!("no free loopback port: {e}")))
}
