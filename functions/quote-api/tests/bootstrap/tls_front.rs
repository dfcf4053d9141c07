//! A TLS front for moto (which speaks plain HTTP): a test CA (rcgen) issues a certificate for
//! `localhost`, the front terminates TLS with it on 127.0.0.1 and forwards the bytes to moto.
//! A bootstrap pointed at `https://localhost:<port>` then reaches DynamoDB over real TLS, and
//! trusts the test CA only when told to through `SSL_CERT_FILE` (read by the platform root
//! loader, rustls-native-certs, as it would read the system bundle).

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The running front.
pub struct TlsFront {
    /// `https://localhost:<port>`.
    pub url: String,
    /// A PEM file holding the test CA's certificate.
    pub ca_file: PathBuf,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

/// Starts a front forwarding to `upstream` (`http://host:port`).
pub async fn start(upstream: &str) -> TlsFront {
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("the test CA");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("the server certificate");

    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let ca_file = std::env::temp_dir().join(format!("q2c-test-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&ca_file, ca.pem()).expect("write the CA file");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                // A client refusing the certificate ends the handshake: nothing to forward.
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                if let Ok(mut moto) = TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut moto).await;
                }
            });
        }
    });
    TlsFront {
        url: format!("https://localhost:{port}"),
        ca_file,
    }
}
