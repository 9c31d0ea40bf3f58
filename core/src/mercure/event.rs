//! An update as one SSE event: `id:`, then `event:` and `retry:` when given, then one
//! `data:` line per line of its data (blank lines and leading spaces kept: SSE strips
//! only the one space after the colon), then the blank line.

use super::Update;
use crate::render::sse::lines;

/// The SSE event of `update`.
pub fn render(update: &Update<'_>) -> String {
    let mut out = String::with_capacity(update.data.len() + update.id.len() + 64);
    out.push_str("id: ");
    out.push_str(update.id);
    out.push('\n');
    if let Some(kind) = update.kind {
        out.push_str("event: ");
        out.push_str(kind);
        out.push('\n');
    }
    if let Some(retry) = update.retry {
        out.push_str("retry: ");
        out.push_str(&retry.to_string());
        out.push('\n');
    }
    for line in lines(update.data) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::TopicName;

    #[test]
    fn every_line_is_a_data_line_and_the_optional_fields_come_first() {
        let topics = [TopicName::parse("https://x/1").expect("topic")];
        let update = Update {
            topics: &topics,
            data: "a\n\n  b\r\nc",
            id: "urn:uuid:1",
            kind: Some("ping"),
            retry: Some(3000),
            private: false,
        };
        assert_eq!(
            render(&update),
            "id: urn:uuid:1\nevent: ping\nretry: 3000\ndata: a\ndata: \ndata:   b\ndata: c\n\n"
        );
        let plain = Update {
            data: "",
            kind: None,
            retry: None,
            ..update
        };
        assert_eq!(render(&plain), "id: urn:uuid:1\ndata: \n\n");
    }
}
