//! The emulator's own certificate authority and server certificate. Clients must trust the CA
//! explicitly (`--ca-out`); TLS verification is never turned off.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::EmulatorError;

/// The CA as persisted in the state file, so that a restarted emulator keeps the trust anchor
/// clients were given.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaMaterial {
    pub cert_pem: String,
    pub key_pem: String,
}

fn tls_err(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Tls(e.to_string())
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "arclink ARM emulator CA");
    dn.push(DnType::OrganizationName, "arclink");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

pub fn new_ca() -> Result<CaMaterial, EmulatorError> {
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = ca_params().self_signed(&key).map_err(tls_err)?;
    Ok(CaMaterial {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A rustls server configuration with a fresh leaf certificate (SANs 127.0.0.1, localhost)
/// signed by `ca`.
pub fn server_config(ca: &CaMaterial) -> Result<Arc<rustls::ServerConfig>, EmulatorError> {
    let ca_key = KeyPair::from_pem(&ca.key_pem).map_err(tls_err)?;
    let issuer = Issuer::new(ca_params(), ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(tls_err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    params
        .distinguished_name
        .push(DnType::CommonName, "arclink ARM emulator");
    let leaf_key = KeyPair::generate().map_err(tls_err)?;
    let leaf = params.signed_by(&leaf_key, &issuer).map_err(tls_err)?;
    let ca_der = rustls_pemfile::certs(&mut ca.cert_pem.as_bytes())
        .next()
        .ok_or_else(|| tls_err("CA PEM holds no certificate"))?
        .map_err(tls_err)?;
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca_der];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
