//! The HTTP client: hyper 1.x with a connection pool (like a real client, which
//! keeps its connection to the DP between requests), rustls for https, and a
//! streaming fetch that counts bytes as they arrive and keeps none of them.
//!
//! A fetch asks for a byte span of a content item, optionally as a series of Range
//! requests (`chunk`, as BITS does), and may start part-way (resuming an attempt
//! that broke). Redirects are followed only to the same scheme, host and port:
//! a DP that sends clients elsewhere is reported, never obeyed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Body as _;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::errors::{ErrorClass, LoadError};

/// The pooled client every transfer shares.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Read buffer per connection.
const READ_BUF: usize = 32 * 1024;

/// Redirect hops followed before giving up (each to the same host).
const MAX_REDIRECTS: u32 = 5;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Accept any server certificate (`--insecure`).
    pub insecure: bool,
    /// Longest wait for a connection, a response or the next body bytes.
    pub timeout: Duration,
    /// Idle connections kept per host (the hard cap on requests in flight is the
    /// caller's semaphore; this keeps the pool from holding more than that).
    pub max_idle: usize,
}

/// Builds the client. TLS verification uses the system's trust store plus the Mozilla
/// roots, so a DP with a certificate from the organisation's own CA is trusted when
/// that CA is installed on the load machine.
pub fn client(o: &ClientOptions) -> Result<HttpClient, LoadError> {
    let tls = tls_config(o.insecure)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(o.timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(o.max_idle)
        .pool_idle_timeout(Duration::from_secs(90))
        // A fixed read buffer per connection keeps memory flat at thousands of
        // connections (an adaptive one grows to hundreds of KB on a fast link);
        // 32 KiB reads still saturate loopback (wrk reads 8 KiB at a time).
        .http1_read_buf_exact_size(READ_BUF)
        .build(https))
}

fn tls_config(insecure: bool) -> Result<rustls::ClientConfig, LoadError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| LoadError::Tls(e.to_string()))?;
    let cfg = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // Certificates the system store cannot parse are skipped, as browsers do.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(cfg)
}

/// `--insecure`: any certificate chain is accepted, but handshake signatures are
/// still checked (so the connection is at least to the holder of the key it shows).
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One transfer to make.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// The content's URL.
    pub uri: Uri,
    /// First byte wanted (non-zero when resuming).
    pub start: u64,
    /// One past the last byte wanted; `None` reads the whole body (`calibrate`).
    pub end: Option<u64>,
    /// Bytes per Range request (`--chunk-size`); `None` asks for the span at once.
    pub chunk: Option<u64>,
    /// Stall timeout (connect, response, gap between body bytes).
    pub timeout: Duration,
}

/// What a transfer got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Body bytes received and counted (never more than asked for).
    pub bytes: u64,
    /// When the first body byte arrived.
    pub first_byte: Option<Instant>,
    /// Requests sent (chunks and redirects included).
    pub requests: u32,
    /// Why it stopped early, if it did.
    pub error: Option<ErrorClass>,
}

/// What a transfer reports as it goes, so that counts are right even for a transfer
/// that is abandoned before it ends (a stop, the horizon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A request was sent (each chunk, resume and redirect hop).
    Request,
    /// Body bytes arrived (and were dropped).
    Bytes(u64),
}

/// How long to wait, once every wanted byte has arrived, for the body's end (the
/// closing chunk of a chunked body): long enough for a server that sends it, short
/// enough that one that never does costs the transfer nothing noticeable.
const END_GRACE: Duration = Duration::from_millis(200);

/// Runs a transfer, calling `on_event` with every request sent and every piece of body
/// as it arrives (the pieces are dropped at once: memory does not grow with the
/// content size).
pub async fn fetch(client: &HttpClient, f: &Fetch, mut on_event: impl FnMut(Event)) -> Fetched {
    let mut got = Fetched {
        bytes: 0,
        first_byte: None,
        requests: 0,
        error: None,
    };
    let mut pos = f.start;
    loop {
        if f.end.is_some_and(|e| pos >= e) {
            return got;
        }
        let span_end = match (f.end, f.chunk) {
            (Some(e), Some(c)) => Some(e.min(pos.saturating_add(c.max(1)))),
            (e, _) => e,
        };
        match one_span(client, f, pos, span_end, &mut got, &mut on_event).await {
            Ok(Span::Done(n)) => {
                pos += n;
                if f.end.is_none() {
                    return got;
                }
            }
            Ok(Span::WholeBody(n)) => {
                // The server ignored the Range header and sent everything from 0.
                pos += n;
                if f.end.is_some_and(|e| pos < e) {
                    got.error = Some(ErrorClass::ShortBody);
                }
                return got;
            }
            Err(class) => {
                got.error = Some(class);
                return got;
            }
        }
    }
}

enum Span {
    /// The asked span arrived (bytes counted).
    Done(u64),
    /// A 200 to a ranged request: the whole wanted part was read from it.
    WholeBody(u64),
}

async fn one_span(
    client: &HttpClient,
    f: &Fetch,
    pos: u64,
    span_end: Option<u64>,
    got: &mut Fetched,
    on_event: &mut impl FnMut(Event),
) -> Result<Span, ErrorClass> {
    let mut uri = f.uri.clone();
    let mut hops = 0;
    let resp = loop {
        let mut req = Request::get(uri.clone()).header(
            header::USER_AGENT,
            concat!(
                "fleetsim/",
                env!("CARGO_PKG_VERSION"),
                " (BITS-like load test)"
            ),
        );
        if let Some(e) = span_end {
            req = req.header(
                header::RANGE,
                format!("bytes={pos}-{}", e.saturating_sub(1)),
            );
        } else if pos > 0 {
            req = req.header(header::RANGE, format!("bytes={pos}-"));
        }
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(|_| ErrorClass::Protocol)?;
        got.requests += 1;
        on_event(Event::Request);
        let resp = match tokio::time::timeout(f.timeout, client.request(req)).await {
            Err(_) => return Err(ErrorClass::Timeout),
            Ok(Err(e)) => return Err(ErrorClass::of_error(&e, false)),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_redirection() {
            let status = resp.status().as_u16();
            let next = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| same_origin(&uri, l));
            match next {
                Some(n) if hops < MAX_REDIRECTS => {
                    hops += 1;
                    uri = n;
                    continue;
                }
                _ => return Err(ErrorClass::HttpStatus(status)),
            }
        }
        break resp;
    };
    let status = resp.status();
    let whole = match status {
        StatusCode::PARTIAL_CONTENT => {
            let first = resp
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(range_start);
            if first != Some(pos) {
                return Err(ErrorClass::Protocol);
            }
            false
        }
        StatusCode::OK if pos == 0 => span_end.is_some(),
        // A 200 to a resume cannot be used: BITS fails the job the same way.
        StatusCode::OK => return Err(ErrorClass::Protocol),
        s => return Err(ErrorClass::HttpStatus(s.as_u16())),
    };
    // A server that ignores Range sends the whole file: take what the whole transfer
    // wants from it.
    let want = if whole {
        f.end.map(|e| e - pos)
    } else {
        span_end.map(|e| e - pos)
    };
    let mut body = resp.into_body();
    let mut n = 0u64;
    loop {
        let all_in = want.is_some_and(|w| n >= w);
        if all_in && body.is_end_stream() {
            break;
        }
        // Every wanted byte is in: what follows is only the end of the body (a
        // chunked body's closing chunk). A server that never sends it, or closes the
        // connection instead, has still delivered the content.
        let wait = if all_in {
            END_GRACE.min(f.timeout)
        } else {
            f.timeout
        };
        let frame = match tokio::time::timeout(wait, body.frame()).await {
            Err(_) | Ok(Some(Err(_))) if all_in => break,
            Err(_) => return Err(ErrorClass::Timeout),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ErrorClass::of_error(&e, true)),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = data.len() as u64;
        let take = want.map_or(len, |w| len.min(w - n));
        if take > 0 {
            if got.first_byte.is_none() {
                got.first_byte = Some(Instant::now());
            }
            n += take;
            got.bytes += take;
            on_event(Event::Bytes(take));
        }
        if take < len {
            // More than asked for (a file larger than the scenario says): stop here;
            // dropping the body closes that connection.
            break;
        }
    }
    if want.is_some_and(|w| n < w) {
        return Err(ErrorClass::ShortBody);
    }
    Ok(if whole {
        Span::WholeBody(n)
    } else {
        Span::Done(n)
    })
}

/// The first byte position of a `Content-Range: bytes a-b/total` header.
fn range_start(v: &str) -> Option<u64> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (first, _) = rest.split_once('-')?;
    first.trim().parse().ok()
}

/// Resolves a `Location` against the request URI; `None` unless it stays on the same
/// scheme, host and port.
fn same_origin(base: &Uri, location: &str) -> Option<Uri> {
    let next: Uri = if location.starts_with('/') && !location.starts_with("//") {
        let mut parts = base.clone().into_parts();
        parts.path_and_query = Some(location.parse().ok()?);
        Uri::from_parts(parts).ok()?
    } else {
        location.parse().ok()?
    };
    let same = next.scheme() == base.scheme()
        && next.host() == base.host()
        && next.port_u16() == base.port_u16();
    same.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_start() {
        assert_eq!(range_start("bytes 100-199/1000"), Some(100));
        assert_eq!(range_start("bytes 0-0/*"), Some(0));
        assert_eq!(range_start("items 1-2/3"), None);
        assert_eq!(range_start("bytes */1000"), None);
    }

    #[test]
    fn redirects_stay_on_the_same_origin() {
        let base: Uri = "http://127.0.0.1:8080/a/b".parse().unwrap();
        assert_eq!(
            same_origin(&base, "/c").map(|u| u.to_string()),
            Some("http://127.0.0.1:8080/c".into())
        );
        assert!(same_origin(&base, "http://127.0.0.1:8080/d").is_some());
        assert!(same_origin(&base, "http://127.0.0.1:8081/d").is_none());
        assert!(same_origin(&base, "https://127.0.0.1:8080/d").is_none());
        assert!(same_origin(&base, "http://elsewhere.invalid/d").is_none());
        assert!(same_origin(&base, "//elsewhere.invalid/d").is_none());
    }

    #[test]
    fn both_tls_modes_build() {
        for insecure in [false, true] {
            assert!(tls_config(insecure).is_ok());
        }
    }
}
