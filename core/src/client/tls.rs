//! TLS for `tcps://host:port`: rustls (ring) over the remote client's blocking socket.
//!
//! One [`TlsSession`] holds the rustls state, shared by the connection's two threads.
//! Neither holds its lock across a socket call: the reader reads ciphertext from the
//! socket, then locks to decrypt it; the writer locks to encrypt a batch, then writes it
//! unlocked. Only the writer thread writes to the socket, so records leave in the order
//! they were sealed; when decrypting leaves TLS output behind (a key update, an alert)
//! the reader asks the writer to send it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::{Error, ErrorKind, Result};
use crate::queue::lock;

/// The client configuration trusting the certificates in the PEM file `ca` (a CA, or a
/// server's self-signed certificate), or without one the system's trusted roots.
pub(crate) fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                Error::invalid_argument(format!("cannot read the CA file {} (ca= in the URL): {e}", path.display()))
            })?;
            let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &pem[..])
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::invalid_argument(format!("{}: not a PEM certificate file: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(Error::invalid_argument(format!("{}: no PEM certificate found", path.display())));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    Error::invalid_argument(format!("{}: a certificate that cannot be trusted: {e}", path.display()))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // The system store holds certificates rustls cannot use; skip those.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::new(
                    ErrorKind::Security,
                    "no trusted certificates: the system has no CA certificates; name the CA (or the server's \
                     self-signed certificate) to trust with tcps://host:port?ca=/path/ca.pem",
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: the URL's host (a DNS name or an IP
/// address).
pub(crate) fn server_name(address: &str) -> Result<ServerName<'static>> {
    let host = match address.rsplit_once(':') {
        Some((host, _port)) => host,
        None => address,
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    ServerName::try_from(host.to_owned())
        .map_err(|e| Error::invalid_argument(format!("\"{host}\" is not a host name TLS can verify: {e}")))
}

/// A failed TLS step as a client error: an untrusted or unsuitable certificate is a
/// Security error (`JMSSecurityException`), anything else a connection failure.
pub(crate) fn tls_error(what: &str, e: &io::Error) -> Error {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        let security = matches!(
            tls,
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType
                | rustls::Error::AlertReceived(
                    rustls::AlertDescription::BadCertificate
                        | rustls::AlertDescription::UnknownCA
                        | rustls::AlertDescription::CertificateExpired
                        | rustls::AlertDescription::CertificateUnknown
                        | rustls::AlertDescription::AccessDenied
                )
        );
        let kind = if security { ErrorKind::Security } else { ErrorKind::Io };
        return Error::new(kind, format!("{what}: TLS: {tls}"));
    }
    Error::new(ErrorKind::Io, format!("{what}: {e}"))
}

/// The TLS state of one connection.
pub(crate) struct TlsSession {
    conn: Mutex<ClientConnection>,
    /// Wakes the writer when the reader left TLS output to send.
    kick: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl TlsSession {
    /// Runs the handshake on `stream` (whose read timeout bounds it).
    pub(crate) fn connect(
        stream: &mut TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Arc<TlsSession>> {
        let mut conn = ClientConnection::new(config, name)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS setup: {e}")))?;
        // The writer drains what is sealed at once; no need for rustls to refuse more.
        conn.set_buffer_limit(None);
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(stream) {
                // Tell the server why, when rustls has an alert for it.
                let _ = conn.write_tls(stream);
                return Err(tls_error("TLS handshake with the server failed", &e));
            }
        }
        Ok(Arc::new(TlsSession { conn: Mutex::new(conn), kick: OnceLock::new() }))
    }

    pub(crate) fn on_output(&self, kick: Box<dyn Fn() + Send + Sync>) {
        let _ = self.kick.set(kick);
    }

    /// Encrypts `plaintext` (possibly empty) and appends every pending TLS record to
    /// `out`.
    pub(crate) fn seal(&self, plaintext: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let mut conn = lock(&self.conn);
        if !plaintext.is_empty() {
            conn.writer().write_all(plaintext)?;
        }
        while conn.wants_write() {
            conn.write_tls(out)?;
        }
        Ok(())
    }
}

/// The reading side: plaintext out of the ciphertext read from the socket.
pub(crate) struct TlsReader {
    tls: Arc<TlsSession>,
    stream: TcpStream,
    raw: Box<[u8]>,
    start: usize,
    end: usize,
}

impl TlsReader {
    pub(crate) fn new(tls: Arc<TlsSession>, stream: TcpStream) -> TlsReader {
        TlsReader { tls, stream, raw: vec![0u8; 64 * 1024].into_boxed_slice(), start: 0, end: 0 }
    }
}

impl Read for TlsReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            {
                let mut conn = lock(&self.tls.conn);
                match conn.reader().read(out) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.start < self.end {
                    // Ciphertext read earlier and not yet taken: feed it first.
                    let mut pending = &self.raw[self.start..self.end];
                    let used = conn.read_tls(&mut pending)?;
                    self.start += used;
                    conn.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    let wants_write = conn.wants_write();
                    drop(conn);
                    if wants_write {
                        if let Some(kick) = self.tls.kick.get() {
                            kick();
                        }
                    }
                    continue;
                }
            }
            // Nothing decrypted and nothing pending: wait for the socket, unlocked.
            let n = self.stream.read(&mut self.raw)?;
            self.start = 0;
            self.end = n;
            if n == 0 {
                // The peer closed the socket: let rustls tell a clean close_notify end
                // (Ok(0)) from a truncation (UnexpectedEof).
                let mut conn = lock(&self.tls.conn);
                conn.read_tls(&mut &[][..])?;
                conn.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                return match conn.reader().read(out) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"))
                    }
                    other => other,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_come_from_the_host() {
        assert_eq!(server_name("localhost:7171").unwrap(), ServerName::try_from("localhost").unwrap());
        assert_eq!(server_name("127.0.0.1:7171").unwrap(), ServerName::try_from("127.0.0.1").unwrap());
        assert_eq!(server_name("[::1]:7171").unwrap(), ServerName::try_from("::1").unwrap());
        assert!(server_name("bad host!:1").is_err());
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_a_clear_error() {
        let e = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("/nonexistent/ca.pem"), "{e}");
        let dir = std::env::temp_dir().join(format!("herald-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(Some(&empty)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("no PEM certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
