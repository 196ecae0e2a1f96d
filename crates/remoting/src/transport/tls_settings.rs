//! A daemon's TLS settings (Apache's `tls.*` keys, in the broker's or name server's properties)
//! turned into what its ports use: the certificate and key files given, or a self-signed
//! certificate made at start (`tls.test.mode.enable`, Apache's default), and the mode.

use std::path::Path;

use rcgen::generate_simple_self_signed;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::tls::{load_certs, load_key, ClientAuth, ServerTls, TlsError, TlsMode};

/// The `tls.*` keys as read from a daemon's properties.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// `tls.server.mode`: disabled, permissive (Apache's default) or enforcing.
    pub mode: String,
    pub cert_path: String,
    pub key_path: String,
    pub key_password: String,
    /// `tls.server.need.client.auth`: none, optional or require.
    pub need_client_auth: String,
    pub trust_cert_path: String,
    /// `tls.test.mode.enable`: without files of its own, a self-signed certificate.
    pub test_mode: bool,
}

/// A certificate chain and its key.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// What a daemon's ports serve.
pub struct DaemonTls {
    pub mode: TlsMode,
    pub identity: Option<Identity>,
    pub remoting: ServerTls,
}

fn bad(key: &str, reason: impl std::fmt::Display) -> TlsError {
    TlsError::Config(format!("{key}: {reason}"))
}

/// Reads the settings; `host` goes into a self-signed certificate.
pub fn load(b: &TlsSettings, host: &str) -> Result<DaemonTls, TlsError> {
    let mode: TlsMode = b.mode.parse().map_err(|e| bad("tls.server.mode", e))?;
    let client_auth: ClientAuth = b
        .need_client_auth
        .parse()
        .map_err(|e| bad("tls.server.need.client.auth", e))?;
    if !b.key_password.is_empty() {
        return Err(bad(
            "tls.server.keyPassword",
            "encrypted keys are not supported yet; decrypt the key once \
             (openssl pkcs8 -in key.pem -out plain.pem) and give that file as tls.server.keyPath",
        ));
    }
    if mode == TlsMode::Disabled {
        return Ok(DaemonTls {
            mode,
            identity: None,
            remoting: ServerTls::disabled(),
        });
    }
    let identity = match (b.cert_path.as_str(), b.key_path.as_str()) {
        ("", "") if b.test_mode => self_signed(host)?,
        ("", "") => {
            return Err(bad(
                "tls.server.certPath",
                "TLS is on (tls.server.mode) with tls.test.mode.enable=false, so the broker \
                 needs tls.server.certPath and tls.server.keyPath",
            ))
        }
        (cert, "") | ("", cert) if !cert.is_empty() => {
            return Err(bad(
                "tls.server.keyPath",
                "tls.server.certPath and tls.server.keyPath go together",
            ))
        }
        (cert, key) => {
            let chain = load_certs(Path::new(cert), "certificate")?;
            let key = load_key(Path::new(key))?;
            tracing::info!(cert, "TLS certificate loaded");
            warn_if_out_of_date(&chain, cert);
            Identity { chain, key }
        }
    };
    let trusted = match b.trust_cert_path.as_str() {
        "" => Vec::new(),
        path => load_certs(Path::new(path), "trusted certificates")?,
    };
    let remoting = ServerTls::new(
        mode,
        identity.chain.clone(),
        identity.key.clone_key(),
        client_auth,
        trusted,
    )?;
    Ok(DaemonTls {
        mode,
        identity: Some(identity),
        remoting,
    })
}

/// A fresh self-signed certificate for `host` and localhost.
pub fn self_signed(host: &str) -> Result<Identity, TlsError> {
    let mut names = vec!["localhost".to_owned()];
    if host != "localhost" {
        names.push(host.to_owned());
    }
    let generated = generate_simple_self_signed(names)
        .map_err(|e| TlsError::Config(format!("cannot make a self-signed certificate: {e}")))?;
    Ok(Identity {
        chain: vec![CertificateDer::from(generated.cert.der().to_vec())],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            generated.signing_key.serialize_der(),
        )),
    })
}

/// Logs, naming the file, a certificate that has expired or is not valid yet: clients that
/// check certificates will refuse it (rmq's and Apache's clients do not by default).
fn warn_if_out_of_date(chain: &[CertificateDer<'static>], path: &str) {
    let Some(leaf) = chain.first() else {
        return;
    };
    let Ok(cert) = webpki::EndEntityCert::try_from(leaf) else {
        return;
    };
    // webpki checks the validity period before it looks for an issuer, so with no trust
    // anchors an out-of-date certificate fails as such and any other as UnknownIssuer.
    let checked = cert.verify_for_usage(
        &[],
        &[],
        &[],
        rustls::pki_types::UnixTime::now(),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    );
    match checked {
        Err(webpki::Error::CertExpired { not_after, .. }) => tracing::error!(
            cert = path,
            not_after_unix = not_after.as_secs(),
            "the TLS certificate has EXPIRED; clients that check certificates will refuse \
             this port: renew it"
        ),
        Err(webpki::Error::CertNotValidYet { not_before, .. }) => tracing::error!(
            cert = path,
            not_before_unix = not_before.as_secs(),
            "the TLS certificate is NOT VALID YET (is the clock right?)"
        ),
        _ => {}
    }
}
