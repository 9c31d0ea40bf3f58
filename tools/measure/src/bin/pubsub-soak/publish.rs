//! The two ways a message gets published: through the app (`POST /events?topic=..`) and
//! raw, straight to Pushpin's publish endpoint with the items the app would send for a
//! live message (`core/src/publish/items.rs`: the topic's channel with the SSE event
//! and the MQTT 5 PUBLISH, `v4#<topic>` with the MQTT 3.1.1 PUBLISH, `a#<topic>` with
//! the MQTT 5 PUBLISH).

use std::io;
use std::time::Duration;

use crate::stats::{now_us, payload};

/// A keep-alive HTTP client for both paths.
pub(crate) struct Publisher {
    agent: ureq::Agent,
    app_url: String,
    publish_url: String,
    token: String,
}

impl Publisher {
    pub(crate) fn new(app_url: String, publish_url: String, token: String) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        Self {
            agent,
            app_url,
            publish_url,
            token,
        }
    }

    /// Publishes message `seq` to `topic` through the app, stamped just before sending.
    pub(crate) fn via_app(&self, topic: &str, seq: u64) -> io::Result<()> {
        self.via_app_with(topic, seq, false)
    }

    /// The same, as the topic's retained message when `retain`.
    pub(crate) fn via_app_with(&self, topic: &str, seq: u64, retain: bool) -> io::Result<()> {
        let body = payload(seq, now_us());
        let retain = if retain { "&retain=true" } else { "" };
        let url = format!("{}/events?topic={topic}{retain}", self.app_url);
        let auth = format!("Bearer {}", self.token);
        let answer = self
            .agent
            .post(&url)
            .set("Authorization", &auth)
            .send_string(&body);
        check("POST /events", answer)
    }

    /// Publishes message `seq` to `topic` straight to Pushpin.
    pub(crate) fn raw(&self, topic: &str, seq: u64) -> io::Result<()> {
        let body = raw_body(topic, &payload(seq, now_us()));
        let answer = self
            .agent
            .post(&self.publish_url)
            .set("Content-Type", "application/json")
            .send_string(&body);
        check("POST /publish/", answer)
    }
}

fn check(what: &str, answer: Result<ureq::Response, ureq::Error>) -> io::Result<()> {
    match answer {
        Ok(r) => {
            let _ = r.into_string();
            Ok(())
        }
        Err(ureq::Error::Status(code, r)) => Err(io::Error::other(format!(
            "{what}: {code} {}",
            r.into_string().unwrap_or_default()
        ))),
        Err(e) => Err(io::Error::other(format!("{what}: {e}"))),
    }
}

/// The publish body the app sends for a live message of `text` on `topic` (a topic of
/// safe characters only, so that its channel is the topic itself).
pub(crate) fn raw_body(topic: &str, text: &str) -> String {
    let sse = format!("event: message\ndata: {text}\n\n");
    let v5 = base64(&mqtt_publish(topic, text.as_bytes(), true));
    let v4 = base64(&mqtt_publish(topic, text.as_bytes(), false));
    serde_json::json!({"items": [
        {"channel": topic, "formats": {"http-stream": {"content": sse}, "ws-message": {"content-bin": v5}}},
        {"channel": format!("v4#{topic}"), "formats": {"ws-message": {"content-bin": v4}}},
        {"channel": format!("a#{topic}"), "formats": {"ws-message": {"content-bin": v5}}},
    ]})
    .to_string()
}

/// A QoS 0 PUBLISH: MQTT 5 (`v5`: an empty property list) or 3.1.1.
fn mqtt_publish(topic: &str, payload: &[u8], v5: bool) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic.as_bytes());
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(payload);
    let mut out = vec![0x30];
    let mut len = body.len();
    loop {
        let byte = (len % 128) as u8;
        len /= 128;
        out.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(&body);
    out
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"soak"), "c29haw==");
        assert_eq!(base64(b"soa"), "c29h");
        assert_eq!(base64(b"so"), "c28=");
    }

    #[test]
    fn raw_body_has_the_apps_three_items() {
        let body: serde_json::Value = serde_json::from_str(&raw_body("t", "soak 1 2")).unwrap();
        let items = body["items"].as_array().unwrap();
        let channels: Vec<_> = items
            .iter()
            .map(|i| i["channel"].as_str().unwrap())
            .collect();
        assert_eq!(channels, ["t", "v4#t", "a#t"]);
        let sse = &items[0]["formats"]["http-stream"]["content"];
        assert_eq!(sse, "event: message\ndata: soak 1 2\n\n");
        // MQTT 5: type 3, length, topic "t", no properties, payload.
        let v5 = [0x30, 12, 0, 1, b't', 0];
        let want = base64(&[&v5[..], b"soak 1 2"].concat());
        assert_eq!(
            items[0]["formats"]["ws-message"]["content-bin"],
            want.as_str()
        );
    }
}
