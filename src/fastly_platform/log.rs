//! The [`LogSink`] port on Fastly's real-time log streaming (`fastly::log`): a line goes to
//! the logging endpoint of that name configured on the service. Viceroy prints it to its
//! stdout as `<endpoint> :: <line>`.

use std::io::Write as _;

use fastly::log::Endpoint;

use pubsub_core::ports::LogSink;

pub(super) struct FastlyLog;

impl LogSink for FastlyLog {
    fn write(&self, endpoint: &str, line: &str) {
        // A missing endpoint or a failed write loses the line, never the request.
        if let Ok(mut endpoint) = Endpoint::try_from_name(endpoint) {
            let _ = endpoint.write_all(line.as_bytes());
        }
    }
}
