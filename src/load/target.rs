//! Where downloads go: URL templates such as
//! `http://dp1.example/SMS_DP_SMSPKG$/{content}`, one per distribution point.
//!
//! A content id replaces `{content}`, percent-encoded (ids are package ids in
//! practice, but nothing stops a scenario from naming one `a b/c`). A template
//! without `{content}` is a base URL: the id is appended as the last path segment.

use http::Uri;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::errors::LoadError;

/// Everything but RFC 3986 unreserved characters is encoded, so an id can neither
/// add path segments nor a query.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The placeholder replaced by the content id.
pub const PLACEHOLDER: &str = "{content}";

/// A checked URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    template: String,
    /// `host:port` of the server (the port made explicit), for messages and the
    /// reachability check.
    authority: String,
    /// Host as written (for the redirect rule).
    host: String,
    tls: bool,
}

impl Target {
    /// Checks a template: http or https, a host, and a valid URL once an id is put in.
    pub fn parse(url: &str) -> Result<Self, LoadError> {
        let bad = |reason: &str| LoadError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let template = if url.contains(PLACEHOLDER) {
            url.to_string()
        } else {
            let base = url.trim_end_matches('/');
            // A bare `http://host` gets the id as its path.
            format!("{base}/{PLACEHOLDER}")
        };
        let probe: Uri = template
            .replace(PLACEHOLDER, "x")
            .parse()
            .map_err(|e| bad(&format!("{e}")))?;
        let tls = match probe.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            Some(other) => return Err(bad(&format!("scheme {other} (use http or https)"))),
            None => return Err(bad("no scheme (use http:// or https://)")),
        };
        let authority = probe.authority().map(|a| a.as_str()).unwrap_or("");
        if authority.contains('@') {
            return Err(bad(
                "user name or password in the URL: the load tester sends no credentials",
            ));
        }
        let host = probe
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?
            .to_string();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.starts_with('.')
            || bare.ends_with("..")
            || !bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        {
            return Err(bad(&format!(
                "host {host:?} is not a host name or an IP address"
            )));
        }
        // `http::Uri` has no port for one that does not fit in 16 bits, which would
        // silently mean the scheme's default (`:99999` load-testing port 80): read
        // the digits as written, after the host (and an IPv6 address's `]`).
        let after_host = authority
            .rfind(']')
            .map_or(authority, |i| authority.get(i + 1..).unwrap_or(""));
        let port = match after_host.rfind(':') {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(i) => {
                let digits = after_host.get(i + 1..).unwrap_or("");
                match digits.parse::<u16>() {
                    Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ if digits.is_empty() => return Err(bad("empty port after `:`")),
                    _ => {
                        return Err(bad(&format!(
                            "port {digits} is not a TCP port, expected 1 to 65535"
                        )));
                    }
                }
            }
        };
        Ok(Target {
            template,
            authority: format!("{host}:{port}"),
            host,
            tls,
        })
    }

    /// A URL used exactly as given (`calibrate`): no placeholder is added.
    pub fn exact(url: &str) -> Result<(Self, Uri), LoadError> {
        let uri: Uri = url.parse().map_err(|e| LoadError::BadUrl {
            url: url.to_string(),
            reason: format!("{e}"),
        })?;
        let mut t = Self::parse(url)?;
        t.template = url.to_string();
        Ok((t, uri))
    }

    /// The URL of one content item.
    pub fn url_for(&self, content_id: &str) -> Result<Uri, LoadError> {
        let enc = utf8_percent_encode(content_id, SEGMENT).to_string();
        let text = self.template.replace(PLACEHOLDER, &enc);
        text.parse().map_err(|e| LoadError::BadUrl {
            url: text.clone(),
            reason: format!("{e}"),
        })
    }

    /// The template, `{content}` included.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Whether the target uses TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host name or address as written.
    pub fn host(&self) -> &str {
        &self.host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_gets_encoded_ids() {
        let t = Target::parse("http://127.0.0.1:8080/SMS_DP_SMSPKG$/{content}").unwrap();
        assert_eq!(t.authority(), "127.0.0.1:8080");
        assert_eq!(
            t.url_for("OSUPG-X64-1033").unwrap().to_string(),
            "http://127.0.0.1:8080/SMS_DP_SMSPKG$/OSUPG-X64-1033"
        );
        assert_eq!(
            t.url_for("a b/../c?d")
                .unwrap()
                .path_and_query()
                .unwrap()
                .as_str(),
            "/SMS_DP_SMSPKG$/a%20b%2F..%2Fc%3Fd"
        );
    }

    #[test]
    fn base_url_appends_the_id() {
        let t = Target::parse("https://dp.example/pkg/").unwrap();
        assert!(t.is_tls());
        assert_eq!(t.authority(), "dp.example:443");
        assert_eq!(
            t.url_for("P1").unwrap().to_string(),
            "https://dp.example/pkg/P1"
        );
    }

    #[test]
    fn rejects_what_cannot_be_fetched() {
        for bad in [
            "ftp://x/{content}",
            "/relative/{content}",
            "http://",
            "not a url",
            // port_above_65535_is_refused: it used to mean port 80.
            "http://127.0.0.1:99999/{content}",
            "http://127.0.0.1:65536/{content}",
            "http://127.0.0.1:0/{content}",
            "http://127.0.0.1:/{content}",
            "http://user:secret@dp/{content}",
            "http://dp!/{content}",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        let e = Target::parse("http://127.0.0.1:99999/{content}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("port 99999 is not a TCP port"), "{e}");
        for good in [
            "http://127.0.0.1:65535/{content}",
            "http://[::1]:8080/x/",
            "https://dp-1.corp_site.example/SMS_DP_SMSPKG$/{content}",
        ] {
            assert!(Target::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            Target::parse("http://[::1]:8080/x/").unwrap().authority(),
            "[::1]:8080"
        );
    }
}
