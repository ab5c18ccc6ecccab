//! What a native socket may choose that a page may not: headers on the
//! upgrade request, and certificates to trust beside webpki's roots.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::{HeaderName, HeaderValue};

use crate::rules::error::{Error, Result};

/// Headers the handshake sets itself: a header given with one of these names
/// is refused rather than sent twice or in conflict.
const HANDSHAKE_HEADERS: [&str; 6] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
];

/// The native options of a builder, checked when it connects.
#[derive(Clone, Debug, Default)]
pub(crate) struct NativeOptions {
    headers: Vec<(String, String)>,
    /// Certificates to trust, each DER or PEM (one or more in a PEM).
    roots: Vec<Vec<u8>>,
}

impl NativeOptions {
    pub(crate) fn add_header(&mut self, name: String, value: String) {
        self.headers.push((name, value));
    }

    pub(crate) fn add_root(&mut self, certificate: Vec<u8>) {
        self.roots.push(certificate);
    }

    /// The upgrade request for a checked URL: the subprotocols offered, then
    /// the headers given, in order.
    pub(crate) fn request(&self, url: &str, protocols: &[String]) -> Result<Request> {
        let mut request = url
            .into_client_request()
            .map_err(|error| Error::InvalidUrl {
                url: url.into(),
                reason: error.to_string(),
            })?;
        let headers = request.headers_mut();
        if !protocols.is_empty() {
            // Checked tokens, so always a valid value.
            if let Ok(value) = HeaderValue::from_str(&protocols.join(", ")) {
                headers.insert("sec-websocket-protocol", value);
            }
        }
        for (name, value) in &self.headers {
            let invalid = |reason: &str| Error::InvalidHeader {
                name: name.clone(),
                reason: reason.to_owned(),
            };
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("not a valid header name"))?;
            if HANDSHAKE_HEADERS.contains(&header_name.as_str()) {
                return Err(invalid(
                    "the WebSocket handshake sets it (subprotocols: `protocols`)",
                ));
            }
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| invalid("its value has a character a header value may not have"))?;
            headers.append(header_name, header_value);
        }
        Ok(request)
    }

    /// The TLS configuration: webpki's roots, and the certificates given.
    pub(crate) fn tls(&self) -> Result<Arc<rustls::ClientConfig>> {
        if self.roots.is_empty() {
            static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
            if let Some(config) = DEFAULT.get() {
                return Ok(Arc::clone(config));
            }
            let config = client_config(webpki_store())?;
            return Ok(Arc::clone(DEFAULT.get_or_init(|| config)));
        }
        let mut store = webpki_store();
        for given in &self.roots {
            for certificate in certificates(given)? {
                store
                    .add(certificate)
                    .map_err(|error| Error::InvalidCertificate {
                        reason: error.to_string(),
                    })?;
            }
        }
        client_config(store)
    }
}

fn webpki_store() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>> {
    // ring: no post-quantum key exchange (hence the deprecation), but no C
    // toolchain beyond a C compiler either; aws-lc-rs would need cmake.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::InvalidCertificate {
            reason: error.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificates in `given`: every one of a PEM file, or one DER.
fn certificates(given: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    if !given.starts_with(b"-----BEGIN") {
        return Ok(vec![CertificateDer::from(given.to_vec())]);
    }
    let found: std::result::Result<Vec<_>, _> = CertificateDer::pem_slice_iter(given).collect();
    match found {
        Ok(found) if !found.is_empty() => Ok(found),
        Ok(_) => Err(Error::InvalidCertificate {
            reason: "the PEM has no CERTIFICATE section".to_owned(),
        }),
        Err(error) => Err(Error::InvalidCertificate {
            reason: error.to_string(),
        }),
    }
}
