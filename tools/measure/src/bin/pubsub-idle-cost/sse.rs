//! Idle SSE subscribers: one raw TCP connection each, read and discarded by a thread.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// An open `GET /events` stream.
pub(crate) struct SseSubscriber {
    stream: TcpStream,
    closed_at: Arc<Mutex<Option<Instant>>>,
    reader: Option<JoinHandle<()>>,
}

impl SseSubscriber {
    /// Sends `GET <target>` to the app and returns once the response head and the first
    /// body bytes (the `stream-open` event) have arrived.
    pub(crate) fn open(app_port: u16, target: &str, timeout: Duration) -> io::Result<Self> {
        let mut stream = TcpStream::connect(("127.0.0.1", app_port))?;
        stream.set_read_timeout(Some(timeout))?;
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{app_port}\r\n\
             Accept: text/event-stream\r\n\r\n"
        )?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + timeout;
        loop {
            let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
            if head_end.is_some_and(|end| got.len() > end + 4) {
                break;
            }
            let n = stream.read(&mut buf)?;
            if n == 0 || Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "the stream ended before its first event: {}",
                    String::from_utf8_lossy(&got)
                )));
            }
            got.extend_from_slice(&buf[..n]);
        }
        let status_ok = got.starts_with(b"HTTP/1.1 200");
        if !status_ok {
            return Err(io::Error::other(format!(
                "GET /events was not answered 200: {}",
                String::from_utf8_lossy(&got)
            )));
        }
        stream.set_read_timeout(None)?;
        Self::hold(stream)
    }

    /// Reads the rest of the stream in a thread, noting when it ends.
    fn hold(stream: TcpStream) -> io::Result<Self> {
        let mut reader = stream.try_clone()?;
        let closed_at = Arc::new(Mutex::new(None));
        let closed = Arc::clone(&closed_at);
        let reader = std::thread::Builder::new()
            .name("sse reader".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
                *closed.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            })?;
        Ok(Self {
            stream,
            closed_at,
            reader: Some(reader),
        })
    }

    /// When the server ended the stream, if it did.
    pub(crate) fn closed_at(&self) -> Option<Instant> {
        *self
            .closed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for SseSubscriber {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
