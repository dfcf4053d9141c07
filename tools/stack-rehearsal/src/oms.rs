//! A fake TMF622 order management on HTTPS (the template only accepts an `https://`
//! `DownstreamOrderApiUrl`): `POST <base>/productOrder` answers 201 and records what it
//! got. Its certificate is issued by a throwaway CA whose PEM file the function trusts
//! through `SSL_CERT_FILE` (read by rustls-native-certs), so the function's HTTPS client runs
//! unchanged.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::RehearsalError;

/// The path of the productOrdering API under the fake's root.
pub const BASE_PATH: &str = "/tmf-api/productOrderingManagement/v4";

/// One order as the fake received it.
#[derive(Debug, Clone)]
pub struct ReceivedOrder {
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The body.
    pub body: Value,
}

type Received = Arc<Mutex<Vec<ReceivedOrder>>>;

/// The running fake.
pub struct FakeOrderManagement {
    /// `https://127.0.0.1:<port>/tmf-api/productOrderingManagement/v4`.
    pub base_url: String,
    /// The CA certificate (PEM) to trust.
    pub ca_file: PathBuf,
    received: Received,
}

impl FakeOrderManagement {
    /// Issues the certificates into `dir` and serves on a free loopback port.
    ///
    /// # Errors
    /// [`RehearsalError::Setup`] when the certificates cannot be made or written, or no port
    /// can be bound.
    pub async fn start(dir: &Path) -> Result<Self, RehearsalError> {
        let setup = |what: &str, e: &dyn std::fmt::Display| {
            RehearsalError::Setup(format!("fake order management: {what}: {e}"))
        };
        let ca_key = KeyPair::generate().map_err(|e| setup("CA key", &e))?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| setup("CA", &e))?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "q2c stack rehearsal CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca
            .self_signed(&ca_key)
            .map_err(|e| setup("CA certificate", &e))?;
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().map_err(|e| setup("key", &e))?;
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| setup("leaf", &e))?;
        leaf.subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let leaf_cert = leaf
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| setup("certificate", &e))?;
        let ca_file = dir.join("order-management-ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).map_err(|e| setup("writing the CA", &e))?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| setup("TLS versions", &e))?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf_cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .map_err(|e| setup("TLS config", &e))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| setup("bind", &e))?;
        let port = listener
            .local_addr()
            .map_err(|e| setup("address", &e))?
            .port();
        let received: Received = Arc::default();
        let app = Router::new()
            .route(&format!("{BASE_PATH}/productOrder"), post(receive))
            .with_state(received.clone());
        let listener = TlsListener {
            tcp: listener,
            acceptor: TlsAcceptor::from(Arc::new(tls)),
        };
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(FakeOrderManagement {
            base_url: format!("https://127.0.0.1:{port}{BASE_PATH}"),
            ca_file,
            received,
        })
    }

    /// The orders received so far.
    pub fn received(&self) -> Vec<ReceivedOrder> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

async fn receive(
    State(received): State<Received>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut stored = received.lock().unwrap_or_else(|e| e.into_inner());
    let id = format!("om-{}", stored.len() + 1);
    stored.push(ReceivedOrder {
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        body: body.clone(),
    });
    let mut answer = body;
    answer["id"] = json!(id);
    answer["state"] = json!("acknowledged");
    (StatusCode::CREATED, Json(answer))
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            // A failed handshake (a client that does not trust us) drops that connection only.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
