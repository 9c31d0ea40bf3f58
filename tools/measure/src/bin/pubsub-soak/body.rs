//! Incremental decoding of an SSE response body (possibly chunked) into complete lines.

/// Incremental decoder of a (possibly chunked) body into complete lines.
#[derive(Default)]
pub(crate) struct Body {
    chunked: bool,
    raw: Vec<u8>,
    /// Bytes left in the current chunk, then its CRLF (0: a size line is next).
    left: usize,
    text: Vec<u8>,
}

impl Body {
    pub(crate) fn new(chunked: bool) -> Self {
        Self {
            chunked,
            ..Self::default()
        }
    }

    /// Feeds bytes; returns the complete lines decoded so far (without their `\n`).
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        if !self.chunked {
            self.text.extend_from_slice(bytes);
            return self.lines();
        }
        self.raw.extend_from_slice(bytes);
        loop {
            if self.left == 0 {
                let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") else {
                    break;
                };
                let line = String::from_utf8_lossy(&self.raw[..eol]).to_string();
                let hex = line.split(';').next().unwrap_or("").trim();
                self.left = usize::from_str_radix(hex, 16).unwrap_or(0) + 2;
                self.raw.drain(..eol + 2);
            }
            let take = self.left.min(self.raw.len());
            if take == 0 {
                break;
            }
            // The chunk's data, without its trailing CRLF.
            let data = take.min(self.left.saturating_sub(2));
            self.text.extend_from_slice(&self.raw[..data]);
            self.raw.drain(..take);
            self.left -= take;
        }
        self.lines()
    }

    fn lines(&mut self) -> Vec<String> {
        let Some(last) = self.text.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let done: Vec<u8> = self.text.drain(..=last).collect();
        String::from_utf8_lossy(&done[..last])
            .split('\n')
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_body_split_anywhere_gives_the_same_lines() {
        let wire = b"19\r\nevent: message\ndata: soak\r\n8\r\n 7 100\n\n\r\n0\r\n\r\n";
        for cut in 0..wire.len() {
            let mut body = Body::new(true);
            let mut lines = body.feed(&wire[..cut]);
            lines.extend(body.feed(&wire[cut..]));
            assert_eq!(
                lines,
                ["event: message", "data: soak 7 100", ""],
                "cut at {cut}"
            );
        }
    }
}
