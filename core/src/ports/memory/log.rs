//! A real-time log in memory, for native tests: keeps every line with its endpoint.

use std::sync::Mutex;

use crate::ports::LogSink;

/// See the module documentation.
#[derive(Default)]
pub struct RecordingLog {
    lines: Mutex<Vec<(String, String)>>,
}

impl RecordingLog {
    /// Every `(endpoint, line)` written so far, in order.
    pub fn lines(&self) -> Vec<(String, String)> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl LogSink for RecordingLog {
    fn write(&self, endpoint: &str, line: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((endpoint.to_owned(), line.to_owned()));
    }
}
