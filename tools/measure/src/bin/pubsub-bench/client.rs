//! The requests the benchmark sends: built ahead of the timed loop, sent one after the
//! other over a keep-alive connection (`ureq`), answers read to the end.

use std::io::{self, Read};
use std::time::Duration;

/// One prepared request.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: &'static str,
    /// Path and query, e.g. `/events?topic=a`.
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Req {
    pub(crate) fn get(target: String) -> Self {
        Self {
            method: "GET",
            target,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub(crate) fn post(target: String, body: Vec<u8>) -> Self {
        Self {
            method: "POST",
            target,
            headers: Vec::new(),
            body,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// What came back: status, headers (names lower-case) and body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 client for one `127.0.0.1` port.
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// Every request times out after 10 s, which bounds a stuck run.
    pub(crate) fn new(port: u16) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .redirects(0)
            .build();
        Self {
            agent,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Sends `req` and reads the whole answer, whatever its status.
    pub(crate) fn send(&self, req: &Req) -> io::Result<Answer> {
        let mut request = self
            .agent
            .request(req.method, &format!("{}{}", self.base, req.target));
        for (name, value) in &req.headers {
            request = request.set(name, value);
        }
        let sent = if req.body.is_empty() && req.method == "GET" {
            request.call()
        } else {
            request.send_bytes(&req.body)
        };
        let response = match sent {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => {
                return Err(io::Error::other(format!(
                    "{} {}: {e}",
                    req.method, req.target
                )))
            }
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                let value = response.header(&n)?.to_owned();
                Some((n.to_ascii_lowercase(), value))
            })
            .collect();
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body)?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}
