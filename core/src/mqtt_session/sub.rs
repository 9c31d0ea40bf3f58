//! One subscription as `mqtt-subs` holds it: `<options hex><channel>[|<slot version>]`,
//! `,`-separated in the field. The options digit packs No Local (bit 0), Retain As
//! Published (bit 1) and Retain Handling (bits 2-3); `|` never occurs in a channel name
//! (it is percent-encoded there), so the optional slot version is unambiguous.

use pubsub_codec::mqtt::{RetainHandling, SubscriptionOptions};

use crate::audience::feed;
use crate::retained::Version;

/// One subscription of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sub {
    /// The channel it listens on: the topic's channel (see [`feed`]), or its MQTT 3.1.1
    /// (`v4#`), Retain As Published (`a#`) or filter variant.
    pub channel: String,
    /// No Local.
    pub no_local: bool,
    /// Retain As Published.
    pub retain_as_published: bool,
    /// Retain Handling.
    pub retain_handling: RetainHandling,
    /// The slot version the retained delivery at SUBSCRIBE saw, until a later request
    /// checked the slot again.
    pub check: Option<Version>,
}

impl Sub {
    /// A subscription on `channel` with the options of its SUBSCRIBE.
    pub fn new(channel: String, options: &SubscriptionOptions) -> Self {
        Self {
            channel,
            no_local: options.no_local,
            retain_as_published: options.retain_as_published,
            retain_handling: options.retain_handling,
            check: None,
        }
    }

    /// The topic of the subscription (its channel, unescaped).
    pub fn topic(&self) -> String {
        // Channels are made from valid topics, so the inverse always exists.
        feed::parse(&self.channel)
            .map(|(_, topic)| topic)
            .unwrap_or_default()
    }

    pub(super) fn encode(&self, out: &mut String) {
        let flags = u8::from(self.no_local)
            | u8::from(self.retain_as_published) << 1
            | (self.retain_handling as u8) << 2;
        out.push(char::from(b"0123456789abcdef"[usize::from(flags & 15)]));
        out.push_str(&self.channel);
        if let Some(version) = self.check {
            // `|` never occurs in a channel name (it is percent-encoded there).
            out.push('|');
            out.push_str(&version.to_string());
        }
    }

    pub(super) fn decode(s: &str) -> Option<Self> {
        let flags = u8::from_str_radix(s.get(..1)?, 16).ok()?;
        let retain_handling = match flags >> 2 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return None,
        };
        let (channel, check) = match s[1..].split_once('|') {
            Some((channel, version)) => (channel, Some(version.parse().ok()?)),
            None => (&s[1..], None),
        };
        Some(Self {
            channel: channel.to_owned(),
            check,
            no_local: flags & 1 != 0,
            retain_as_published: flags & 2 != 0,
            retain_handling,
        })
    }
}
