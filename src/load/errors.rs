//! Error classes of real transfers, and the typed errors of the load tester itself.
//!
//! A failed attempt is handed to the world as a `u32` class code (see
//! [`crate::sim::transport::FlowDone::error`]); the world counts it in
//! `RunResult::transfer_errors` and retries the attempt like a transient failure.
//! HTTP status errors carry the status itself as their code (400..=599 and refused
//! redirects 300..=399), so `failures.csv` tells a 503 from a 404; the other classes
//! use small codes that no status can take.

use std::error::Error as StdError;
use std::io;

/// Why one transfer attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorClass {
    /// No connection could be made (refused, unreachable, DNS, TLS handshake).
    Connect,
    /// The server stalled: no response or no body bytes within the timeout.
    Timeout,
    /// The connection was reset or closed abruptly while receiving.
    Reset,
    /// The server answered with an error status, or a redirect that was refused
    /// (another host, or too many hops): the status code.
    HttpStatus(u16),
    /// The body ended before the expected number of bytes.
    ShortBody,
    /// The answer made no sense (a range other than the one asked for, a malformed
    /// response).
    Protocol,
}

/// Code of [`ErrorClass::Connect`].
pub const CONNECT: u32 = 1;
/// Code of [`ErrorClass::Timeout`].
pub const TIMEOUT: u32 = 2;
/// Code of [`ErrorClass::Reset`].
pub const RESET: u32 = 3;
/// Code of [`ErrorClass::ShortBody`].
pub const SHORT_BODY: u32 = 5;
/// Code of [`ErrorClass::Protocol`].
pub const PROTOCOL: u32 = 6;

impl ErrorClass {
    /// The code the world counts (`failures.csv` `code` column).
    pub fn code(self) -> u32 {
        match self {
            ErrorClass::Connect => CONNECT,
            ErrorClass::Timeout => TIMEOUT,
            ErrorClass::Reset => RESET,
            ErrorClass::HttpStatus(s) => u32::from(s),
            ErrorClass::ShortBody => SHORT_BODY,
            ErrorClass::Protocol => PROTOCOL,
        }
    }

    /// Inverse of [`code`](Self::code); `None` for codes no class uses.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            CONNECT => ErrorClass::Connect,
            TIMEOUT => ErrorClass::Timeout,
            RESET => ErrorClass::Reset,
            SHORT_BODY => ErrorClass::ShortBody,
            PROTOCOL => ErrorClass::Protocol,
            // Every status a server can send (three digits, 100 to 999), so that
            // an unusual one is still named `http_<status>`.
            100..=999 => ErrorClass::HttpStatus(code as u16),
            _ => return None,
        })
    }

    /// The class name (`failures.csv` `name` column): `connect`, `timeout`, `reset`,
    /// `http_503`, `short_body`, `protocol`.
    pub fn name(self) -> String {
        match self {
            ErrorClass::Connect => "connect".into(),
            ErrorClass::Timeout => "timeout".into(),
            ErrorClass::Reset => "reset".into(),
            ErrorClass::HttpStatus(s) => format!("http_{s}"),
            ErrorClass::ShortBody => "short_body".into(),
            ErrorClass::Protocol => "protocol".into(),
        }
    }

    /// Classifies an error from the HTTP stack by what is at its root: resets are
    /// told from early ends of the body and from timeouts whatever layer (hyper,
    /// rustls, the socket) reported them. `in_body` says whether the response headers
    /// had arrived (an early end is then a short body, before them a reset).
    pub fn of_error(e: &(dyn StdError + 'static), in_body: bool) -> Self {
        let mut connect = false;
        let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(l) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
                connect |= l.is_connect();
            }
            if let Some(io) = err.downcast_ref::<io::Error>() {
                return match io.kind() {
                    io::ErrorKind::TimedOut => ErrorClass::Timeout,
                    _ if connect => ErrorClass::Connect,
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::AddrNotAvailable => {
                        ErrorClass::Connect
                    }
                    io::ErrorKind::UnexpectedEof if in_body => ErrorClass::ShortBody,
                    _ => ErrorClass::Reset,
                };
            }
            if let Some(h) = err.downcast_ref::<hyper::Error>() {
                if h.is_timeout() {
                    return ErrorClass::Timeout;
                }
                if h.is_parse() || h.is_parse_status() {
                    return ErrorClass::Protocol;
                }
                if h.is_incomplete_message() {
                    return if in_body {
                        ErrorClass::ShortBody
                    } else {
                        ErrorClass::Reset
                    };
                }
            }
            cur = err.source();
        }
        if connect {
            ErrorClass::Connect
        } else if in_body {
            ErrorClass::ShortBody
        } else {
            ErrorClass::Reset
        }
    }
}

/// Why a load test or a calibration could not run (as opposed to failed transfers,
/// which are measurements).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A target URL or URL template cannot be used.
    #[error("bad target URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `url` of a `[[distribution_points]]` entry cannot be used.
    #[error("bad url {url:?} of distribution point {dp}: {reason}")]
    BadDpUrl {
        /// Index of the DP in the scenario (for locating its `url` key).
        index: usize,
        /// DP name.
        dp: String,
        /// The URL as written.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A flag value is out of range.
    #[error("{flag}: {reason}")]
    BadOption {
        /// The flag.
        flag: &'static str,
        /// What was expected.
        reason: String,
    },
    /// A distribution point cannot be reached at all (checked before the test starts,
    /// so a typo does not become thousands of counted connect errors).
    #[error("cannot reach {dp} at {authority}: {reason}")]
    Unreachable {
        /// DP name (or the target for `calibrate`).
        dp: String,
        /// Host and port tried.
        authority: String,
        /// The error.
        reason: String,
    },
    /// TLS set-up failed.
    #[error("TLS set-up: {0}")]
    Tls(String),
    /// The async runtime could not start (threads, file descriptors).
    #[error("starting the HTTP runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The simulation around the transfers refused the scenario.
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    /// Every request of a calibration step failed.
    #[error("calibration at {concurrency} connections: every request failed ({class})")]
    AllFailed {
        /// Concurrency of the step.
        concurrency: usize,
        /// Name of the last error class seen.
        class: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_do_not_collide() {
        let all = [
            ErrorClass::Connect,
            ErrorClass::Timeout,
            ErrorClass::Reset,
            ErrorClass::HttpStatus(503),
            ErrorClass::HttpStatus(302),
            ErrorClass::ShortBody,
            ErrorClass::Protocol,
        ];
        let mut codes: Vec<u32> = all.iter().map(|c| c.code()).collect();
        for c in all {
            assert_eq!(ErrorClass::from_code(c.code()), Some(c));
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(ErrorClass::from_code(0), None);
        assert_eq!(ErrorClass::HttpStatus(503).name(), "http_503");
        // http_999_is_named: the highest status a server can send.
        assert_eq!(
            ErrorClass::from_code(999).map(ErrorClass::name),
            Some("http_999".to_string())
        );
    }

    #[test]
    fn io_kinds_classify() {
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(ErrorClass::of_error(&reset, true), ErrorClass::Reset);
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(ErrorClass::of_error(&eof, true), ErrorClass::ShortBody);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ErrorClass::of_error(&refused, false), ErrorClass::Connect);
        let slow = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(ErrorClass::of_error(&slow, true), ErrorClass::Timeout);
    }
}
