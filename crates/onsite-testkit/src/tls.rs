//! [`TestCa`] (feature `tls`): a certificate authority made up for one test, and relay
//! certificates it signs for `127.0.0.1` and `localhost`, written as PEM files — what a centre with
//! its own CA gives the relay (`tls_cert`/`tls_key`) and its devices (an extra trusted root).

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A test's own certificate authority.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM: what a device trusts.
    pub cert_pem: String,
}

/// A relay certificate and its key.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate as it travels in the handshake (DER), to compare with a peer's.
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Onsite test CA");
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A fresh certificate (new key) for `127.0.0.1` and `localhost`, signed by this CA.
    pub fn leaf(&self) -> Leaf {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let params = CertificateParams::new(names).expect("leaf parameters");
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

impl Leaf {
    /// Write the pair to `cert` and `key`, each replaced whole (written beside, then renamed), as
    /// a deploy tool would.
    pub fn write(&self, cert: &Path, key: &Path) {
        replace(key, self.key_pem.as_bytes());
        replace(cert, self.cert_pem.as_bytes());
    }
}

/// Replace the file at `path` with `bytes` in one step (written beside it, then renamed).
pub fn replace(path: &Path, bytes: &[u8]) {
    let part = path.with_extension("part");
    std::fs::write(&part, bytes).expect("write the new file");
    std::fs::rename(&part, path).expect("put the new file in place");
}
