//! What the broker does with each MQTT packet of a connection.
//!
//! Decisions where the specifications leave a choice (also in the README):
//! - Delivery to subscribers is QoS 0; SUBACK grants QoS 0. A QoS 1 PUBLISH from a client
//!   is acknowledged only after the publish API accepted the message (at least once from
//!   client to broker). QoS 2 is refused: MQTT 5 DISCONNECT 0x9B, 3.1.1 close.
//! - An unauthorised PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87 and the connection stays;
//!   MQTT 5 QoS 0 (which has no acknowledgement) gets DISCONNECT 0x87, so the client learns
//!   why; MQTT 3.1.1 has no negative acknowledgement, so the connection is closed
//!   ([MQTT-3.3.5-2] allows that).
//! - Every SUBSCRIBE filter gets its own reason code. Wildcards and shared subscriptions
//!   are not supported (CONNACK says so), and a connection holds at most
//!   [`MAX_SUBSCRIPTIONS`] subscriptions.
//! - The token is re-verified when a packet needs it (SUBSCRIBE, PUBLISH), so a revoked key
//!   takes effect on live connections; its `exp` is checked on every request.
//! - Sessions are not persisted: CONNACK's Session Present is always 0.
//! - A Will Message is published when the connection ends without a normal DISCONNECT
//!   (client close, lost connection, keep alive timeout, a protocol error), at once: sessions
//!   end with the connection, so the Will Delay Interval is over. The token must allow
//!   publishing to the Will Topic (else CONNACK 0x87) and the payload is at most
//!   [`MAX_WILL_BYTES`] (else 0x97), because the Will waits in connection metadata. A Will
//!   is not published once the token has expired.

use std::num::NonZeroU32;

use pubsub_codec::mqtt::{
    self, ConnAck, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode, Packet,
    PacketType, ProtocolVersion, PubAck, PubAckReasonCode, Publish, QoS, RetainHandling, SubAck,
    SubAckReasonCode, Subscribe, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};
use pubsub_codec::wsevents;
use pubsub_core::channel::Kind;
use pubsub_core::ports::Platform;
use pubsub_core::tokens::{self, Access, Principal};
use pubsub_core::{topics, Config, Error};

use super::session::{Session, Sub};
use pubsub_core::message::{self, Outgoing, RetainedOutgoing};
use pubsub_core::retained::{self, NewRetained, Version};

/// With the `grip` WebSocket extension, a message from the app to the client must start
/// with this prefix (Fanout strips it); unprefixed messages are not delivered.
const MESSAGE_PREFIX: &[u8] = b"m:";

/// The most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// One request's worth of work on a connection.
pub(crate) struct Connection<'a> {
    platform: &'a Platform,
    config: &'a Config,
    connection_id: &'a str,
    now: u64,
    pub(crate) session: Session,
    /// The response body: WebSocket-over-HTTP events.
    pub(crate) out: Vec<u8>,
    pub(crate) closed: bool,
    /// The token verified during this request, if it was needed.
    principal: Option<Result<Principal, Error>>,
    /// The first bytes of a packet being refused (to read a CONNECT's protocol level).
    in_flight: Vec<u8>,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(
        platform: &'a Platform,
        config: &'a Config,
        connection_id: &'a str,
        session: Session,
    ) -> Self {
        Self {
            platform,
            config,
            connection_id,
            now: platform.env.now(),
            session,
            out: Vec::new(),
            closed: false,
            principal: None,
            in_flight: Vec::new(),
        }
    }

    /// The session to write back and the response body.
    pub(crate) fn finish(self) -> (Session, Vec<u8>) {
        (self.session, self.out)
    }

    fn version(&self) -> ProtocolVersion {
        self.session.version.unwrap_or(ProtocolVersion::V5)
    }

    fn send(&mut self, packet: &Packet) {
        let mut bytes =
            Vec::with_capacity(MESSAGE_PREFIX.len() + packet.encoded_len(self.version()));
        bytes.extend_from_slice(MESSAGE_PREFIX);
        if packet.encode(self.version(), &mut bytes).is_ok() {
            wsevents::write_binary(&mut self.out, &bytes);
        }
    }

    /// Sends raw packet bytes to the client.
    fn send_raw(&mut self, packet: &[u8]) {
        let mut bytes = Vec::with_capacity(MESSAGE_PREFIX.len() + packet.len());
        bytes.extend_from_slice(MESSAGE_PREFIX);
        bytes.extend_from_slice(packet);
        wsevents::write_binary(&mut self.out, &bytes);
    }

    fn control(&mut self, kind: &str, channel: &str, skip_self: bool) {
        let json = if skip_self {
            serde_json::json!({"type": kind, "channel": channel, "filters": ["skip-self"]})
        } else {
            serde_json::json!({"type": kind, "channel": channel})
        };
        wsevents::control_message(&mut self.out, &json.to_string());
    }

    /// Ends the WebSocket with `code`.
    pub(crate) fn close(&mut self, code: u16) {
        if !self.closed {
            wsevents::write_close(&mut self.out, code);
            self.closed = true;
            self.publish_will();
        }
    }

    /// Marks the connection closed without writing anything (the peer closed it).
    pub(crate) fn close_quietly(&mut self) {
        if !self.closed {
            self.closed = true;
            self.publish_will();
        }
    }

    /// The session ends without a normal DISCONNECT: publish the Will Message, if any
    /// [MQTT-3.1.2-8]. Sessions are not kept after the connection, so the Will Delay
    /// Interval is over at once [MQTT-3.1.3-9].
    fn publish_will(&mut self) {
        let Some(bytes) = self.session.will.take() else {
            return;
        };
        self.session.touch("mqtt-will");
        let expired = Principal {
            exp: self.session.exp,
            ..Principal::default()
        }
        .expired_at(self.now);
        if expired {
            return;
        }
        if let Ok(will) = Publish::decode(&bytes, ProtocolVersion::V5) {
            // Nobody is left to tell if this fails; the Will is lost like any QoS 0 message.
            let _ = self.forward(&will);
        }
    }

    /// Ends the session: an MQTT 5 DISCONNECT with `reason` (3.1.1 has none), then close.
    fn disconnect(&mut self, reason: DisconnectReasonCode, text: &str) {
        if self.session.version == Some(ProtocolVersion::V5) {
            let mut packet = Disconnect::new(reason);
            packet.properties.reason_string = Some(text.to_owned());
            self.send(&Packet::Disconnect(packet));
        }
        self.close(if reason == DisconnectReasonCode::NormalDisconnection {
            1000
        } else {
            1008
        });
    }

    /// Before any packet: the token's expiry and the MQTT keep alive.
    pub(crate) fn check_liveness(&mut self) {
        if self.closed || self.session.version.is_none() {
            return;
        }
        let expired = Principal {
            exp: self.session.exp,
            ..Principal::default()
        }
        .expired_at(self.now);
        if expired {
            self.disconnect(DisconnectReasonCode::NotAuthorized, "the token has expired");
            return;
        }
        if keep_alive_expired(self.session.seen, self.now, self.session.keep_alive) {
            self.disconnect(DisconnectReasonCode::KeepAliveTimeout, "keep alive timeout");
        }
    }

    /// Decodes and handles every complete packet in `buffered + incoming`; keeps the rest.
    pub(crate) fn receive(&mut self, data: &[u8], had_buffer: bool) {
        let max = u32::try_from(self.config.max_packet_bytes).unwrap_or(u32::MAX);
        let mut pos = 0;
        while !self.closed && pos < data.len() {
            match mqtt::frame_len(&data[pos..], max) {
                Ok(Some(len)) => {
                    self.packet(&data[pos..pos + len]);
                    pos += len;
                }
                Ok(None) => break,
                Err(e) => {
                    self.in_flight = data[pos..].iter().take(16).copied().collect();
                    self.refuse(&e);
                    break;
                }
            }
        }
        if pos > 0 && self.session.version.is_some() {
            self.session.seen = self.now;
            self.session.touch("mqtt-seen");
        }
        let rest = if self.closed { &[][..] } else { &data[pos..] };
        if had_buffer || !rest.is_empty() {
            self.session.buffer = rest.to_vec();
            self.session.touch("mqtt-buf");
        }
    }

    /// Answers a packet that cannot be decoded.
    fn refuse(&mut self, e: &mqtt::DecodeError) {
        match self.session.version {
            None => self.connack_failure(e),
            Some(_) => {
                let reason = DisconnectReasonCode::try_from(e.reason_code())
                    .unwrap_or(DisconnectReasonCode::ProtocolError);
                self.disconnect(reason, &e.to_string());
            }
        }
    }

    /// Refuses a CONNECT that cannot be decoded, in the form its protocol level reads.
    fn connack_failure(&mut self, e: &mqtt::DecodeError) {
        if connect_level(&self.in_flight) == Some(5) {
            if let Ok(code) = ConnectReasonCode::try_from(e.reason_code()) {
                self.session.version = Some(ProtocolVersion::V5);
                let mut ack = ConnAck::new(code);
                ack.properties.reason_string = Some(e.to_string());
                self.send(&Packet::ConnAck(ack));
                self.session.version = None;
            }
        } else if let Some(code) = e.connack_return_code_v311() {
            // 3.1.1 CONNACK: type 2, length 2, no session present, the return code.
            self.send_raw(&[0x20, 0x02, 0x00, code]);
        }
        self.close(1002);
    }

    fn packet(&mut self, bytes: &[u8]) {
        let Some(version) = self.session.version else {
            // [MQTT-3.1.0-1]: the first packet must be CONNECT.
            if bytes.first().map(|b| b >> 4) != Some(PacketType::Connect as u8) {
                self.close(1002);
                return;
            }
            match mqtt::decode_connect(bytes) {
                Ok(connect) => self.connect(connect),
                Err(e) => {
                    self.in_flight = bytes.to_vec();
                    self.connack_failure(&e);
                }
            }
            return;
        };
        let packet = match mqtt::decode(bytes, version) {
            Ok(packet) => packet,
            Err(e) => return self.refuse(&e),
        };
        match packet {
            Packet::Publish(p) => self.publish(p),
            Packet::Subscribe(s) => self.subscribe(s),
            Packet::Unsubscribe(u) => self.unsubscribe(u),
            Packet::PingReq => self.send_raw(&mqtt::PINGRESP_BYTES),
            Packet::Disconnect(d) => {
                if d.reason_code != DisconnectReasonCode::DisconnectWithWillMessage {
                    // [MQTT-3.14.4-3]: a normal DISCONNECT discards the Will.
                    if self.session.will.take().is_some() {
                        self.session.touch("mqtt-will");
                    }
                }
                self.unsubscribe_all();
                self.close(1000);
            }
            Packet::Auth(_) => self.disconnect(
                DisconnectReasonCode::ProtocolError,
                "enhanced authentication is not supported; send the token as the password",
            ),
            Packet::Connect(_) => self.disconnect(
                DisconnectReasonCode::ProtocolError,
                "[MQTT-3.1.0-2] a second CONNECT is a protocol error",
            ),
            other => {
                let text = format!("a client may not send {} here", other.packet_type().name());
                self.disconnect(DisconnectReasonCode::ProtocolError, &text);
            }
        }
    }

    fn connect(&mut self, c: Connect) {
        let version = c.protocol;
        self.session.version = Some(version);
        let token = c
            .password
            .as_deref()
            .and_then(|p| std::str::from_utf8(p).ok())
            .unwrap_or("");
        let verified = if token.is_empty() {
            Err(Error::MissingCredentials)
        } else {
            tokens::verify(token, &*self.platform.kv, self.now)
        };
        let principal = match verified {
            Ok(p) => p,
            Err(e) => {
                let code = match e {
                    Error::StoreUnavailable(_) => ConnectReasonCode::ServerUnavailable,
                    _ => ConnectReasonCode::NotAuthorized,
                };
                let mut ack = ConnAck::new(code);
                ack.properties.reason_string = Some(e.to_string());
                self.send(&Packet::ConnAck(ack));
                self.session.version = None;
                self.close(1008);
                return;
            }
        };
        let will = match c
            .will
            .as_ref()
            .map(|w| will_packet(w, &principal, self.config))
        {
            None => None,
            Some(Ok(packet)) => Some(packet),
            Some(Err((code, text))) => {
                let mut ack = ConnAck::new(code);
                ack.properties.reason_string = Some(text);
                self.send(&Packet::ConnAck(ack));
                self.session.version = None;
                self.close(1008);
                return;
            }
        };
        let mut ack = ConnAck::new(ConnectReasonCode::Success);
        if c.client_id.is_empty() {
            let mut random = [0u8; 8];
            if self.platform.env.random(&mut random).is_ok() {
                let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
                ack.properties.assigned_client_identifier = Some(format!("auto-{id}"));
            }
        }
        let p = &mut ack.properties;
        p.maximum_qos = Some(QoS::AtLeastOnce);
        p.retain_available = Some(true);
        p.maximum_packet_size =
            NonZeroU32::new(u32::try_from(self.config.max_packet_bytes).unwrap_or(u32::MAX));
        p.topic_alias_maximum = Some(0);
        p.wildcard_subscription_available = Some(false);
        p.shared_subscription_available = Some(false);
        p.subscription_identifiers_available = Some(false);
        self.send(&Packet::ConnAck(ack));

        if let Some(packet) = will {
            self.session.will = Some(packet);
            self.session.touch("mqtt-will");
        }
        self.session.token = Some(token.to_owned());
        self.session.exp = principal.exp;
        self.session.keep_alive = c.keep_alive;
        self.principal = Some(Ok(principal));
        for name in ["mqtt-v", "mqtt-token", "mqtt-exp", "mqtt-ka"] {
            self.session.touch(name);
        }
        // No Local: Pushpin's `skip-self` filter compares a publish's `sender` with the
        // subscription's `user` metadata, which its handler only learns from a set-meta
        // control message (Set-Meta-* headers reach the proxy only).
        let set_meta =
            serde_json::json!({"type": "set-meta", "name": "user", "value": self.connection_id});
        wsevents::control_message(&mut self.out, &set_meta.to_string());
    }

    /// The token of the connection, verified once per request.
    fn principal(&mut self) -> Result<&Principal, Error> {
        if self.principal.is_none() {
            let token = self.session.token.clone().unwrap_or_default();
            self.principal = Some(tokens::verify(&token, &*self.platform.kv, self.now));
        }
        match self.principal.as_ref() {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Error::Internal("principal not computed".into())),
        }
    }

    /// The channel a subscription to `topic` listens on.
    fn channel(&self, topic: &str, retain_as_published: bool) -> String {
        match self.version() {
            ProtocolVersion::V5 if retain_as_published => Kind::AsPublished.of(topic),
            ProtocolVersion::V5 => Kind::Live.of(topic),
            ProtocolVersion::V311 => Kind::Mqtt311.of(topic),
        }
    }

    fn subscribe(&mut self, s: Subscribe) {
        let principal = self.principal().cloned();
        if let Err(Error::InvalidToken(_) | Error::UnknownKey(_)) = principal {
            return self.disconnect(
                DisconnectReasonCode::NotAuthorized,
                "the token is no longer valid",
            );
        }
        let mut codes = Vec::with_capacity(s.subscriptions.len());
        let mut retained_wanted: Vec<String> = Vec::new();
        for sub in &s.subscriptions {
            let filter = sub.filter.as_str();
            // A shared subscription is refused as such whether or not its inner filter
            // holds a wildcard (`$share/group/topic` too).
            let code = if mqtt::shared_subscription(filter).is_some() {
                SubAckReasonCode::SharedSubscriptionsNotSupported
            } else if filter.contains(['+', '#']) {
                SubAckReasonCode::WildcardSubscriptionsNotSupported
            } else if topics::validate(filter).is_err() || filter.starts_with("$share/") {
                SubAckReasonCode::TopicFilterInvalid
            } else {
                match &principal {
                    Err(_) => SubAckReasonCode::ImplementationSpecificError,
                    Ok(p) if !p.allows(Access::Read, filter) => SubAckReasonCode::NotAuthorized,
                    Ok(_) => match self.add_subscription(filter, &sub.options) {
                        Ok(wanted) => {
                            if wanted {
                                retained_wanted.push(filter.to_owned());
                            }
                            SubAckReasonCode::GrantedQoS0
                        }
                        Err(code) => code,
                    },
                }
            };
            codes.push(match self.version() {
                ProtocolVersion::V5 => code,
                ProtocolVersion::V311 => code.to_v311(),
            });
        }
        self.send(&Packet::SubAck(SubAck::new(s.packet_id, codes)));
        // [MQTT-3.3.1-9]: retained messages follow the SUBACK, with RETAIN set.
        for filter in retained_wanted {
            // On a store failure the check on the next request delivers the message.
            let seen = self
                .send_retained(&filter, Version::ZERO)
                .unwrap_or(Version::ZERO);
            self.set_check(&filter, seen);
        }
    }

    /// Subscribes to `filter`; `Err` is the failure code. `Ok(true)` when the retained
    /// message is to be sent (Retain Handling 0, or 1 for a new subscription).
    fn add_subscription(
        &mut self,
        filter: &str,
        options: &mqtt::SubscriptionOptions,
    ) -> Result<bool, SubAckReasonCode> {
        let channel = self.channel(filter, options.retain_as_published);
        let existing = self.session.position(filter);
        let exists = existing.is_some();
        if !exists && self.session.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(SubAckReasonCode::QuotaExceeded);
        }
        if let Some(i) = existing {
            // [MQTT-3.8.4-3]: the new subscription replaces the old one (whose channel
            // differs when Retain As Published changed).
            let old = self.session.subs.remove(i);
            if old.channel != channel {
                self.control("unsubscribe", &old.channel, false);
            }
        }
        let sub = Sub::new(channel.clone(), options);
        let wanted = match options.retain_handling {
            RetainHandling::SendAtSubscribe => true,
            RetainHandling::SendIfNew => !exists,
            RetainHandling::DoNotSend => false,
        };
        self.session.subs.push(sub);
        self.session.touch("mqtt-subs");
        self.control("subscribe", &channel, options.no_local);
        Ok(wanted)
    }

    fn set_check(&mut self, filter: &str, seen: Version) {
        if let Some(i) = self.session.position(filter) {
            self.session.subs[i].check = Some(seen);
            self.session.touch("mqtt-subs");
        }
    }

    fn unsubscribe(&mut self, u: Unsubscribe) {
        let mut codes = Vec::with_capacity(u.filters.len());
        for filter in &u.filters {
            let code = if let Some(i) = self.session.position(filter) {
                let old = self.session.subs.remove(i);
                self.session.touch("mqtt-subs");
                self.control("unsubscribe", &old.channel, false);
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            };
            codes.push(code);
        }
        self.send(&Packet::UnsubAck(UnsubAck::new(u.packet_id, codes)));
    }

    fn unsubscribe_all(&mut self) {
        let subs = std::mem::take(&mut self.session.subs);
        if !subs.is_empty() {
            self.session.touch("mqtt-subs");
        }
        for sub in subs {
            self.control("unsubscribe", &sub.channel, false);
        }
    }

    fn publish(&mut self, p: Publish) {
        let v5 = self.version() == ProtocolVersion::V5;
        let ack = |code| (p.qos == QoS::AtLeastOnce).then_some(code).zip(p.packet_id);
        if p.qos == QoS::ExactlyOnce {
            return self.disconnect(
                DisconnectReasonCode::QoSNotSupported,
                "QoS 2 is not supported; the maximum QoS is 1",
            );
        }
        if p.properties.topic_alias.is_some() {
            return self.disconnect(
                DisconnectReasonCode::TopicAliasInvalid,
                "topic aliases are not supported (Topic Alias Maximum is 0)",
            );
        }
        if let Err(e) = topics::validate(&p.topic) {
            return self.disconnect(DisconnectReasonCode::TopicNameInvalid, &e.to_string());
        }
        if p.payload.len() > self.config.max_message_bytes {
            let text = format!(
                "message is larger than {} bytes",
                self.config.max_message_bytes
            );
            return self.disconnect(DisconnectReasonCode::PacketTooLarge, &text);
        }
        let allowed = match self.principal() {
            Ok(principal) => principal.allows(Access::Write, &p.topic),
            Err(_) => false,
        };
        if !allowed {
            let text = format!("the token may not publish to {:?}", p.topic);
            return match ack(PubAckReasonCode::NotAuthorized) {
                Some((code, id)) if v5 => self.puback(id, code, Some(text)),
                _ => self.disconnect(DisconnectReasonCode::NotAuthorized, &text),
            };
        }
        let result = self.forward(&p);
        match (result, ack(PubAckReasonCode::Success)) {
            (Ok(()), Some((code, id))) => self.puback(id, code, None),
            (Ok(()), None) => {}
            (Err(Forward::NotStored(why)), Some((_, id))) if v5 => {
                self.puback(id, PubAckReasonCode::ImplementationSpecificError, Some(why));
            }
            (Err(Forward::NotDelivered(why)), Some((_, id))) if v5 => {
                self.puback(id, PubAckReasonCode::UnspecifiedError, Some(why));
            }
            (Err(Forward::NotStored(why) | Forward::NotDelivered(why)), Some(_)) => {
                self.disconnect(DisconnectReasonCode::UnspecifiedError, &why);
            }
            // QoS 0 promises nothing; the message is lost, the connection stays.
            (Err(_), None) => {}
        }
    }

    fn puback(&mut self, id: std::num::NonZeroU16, code: PubAckReasonCode, text: Option<String>) {
        let mut ack = PubAck::new(id);
        ack.reason_code = code;
        if self.version() == ProtocolVersion::V5 {
            ack.properties.reason_string = text;
        }
        self.send(&Packet::PubAck(ack));
    }

    /// Publishes a client's message to every subscriber of its topic; a retained one is
    /// stored first (`Err` before anything is published when the store fails).
    fn forward(&mut self, p: &Publish) -> Result<(), Forward> {
        let props = message::mqtt_props(&p.properties);
        let expiry = p.properties.message_expiry_interval;
        let render = |version| {
            message::mqtt_publish(version, &p.topic, &p.payload, Some(&props), expiry, false)
        };
        let outgoing = Outgoing {
            topic: &p.topic,
            payload: &p.payload,
            mqtt_v5: render(ProtocolVersion::V5),
            mqtt_v311: render(ProtocolVersion::V311),
            sender: Some(self.connection_id),
        };
        let body = if p.retain {
            let new = NewRetained {
                payload: &p.payload,
                ttl_secs: expiry,
                mqtt: Some(props.clone()),
            };
            let stored = retained::store(&*self.platform.kv, self.now, &p.topic, new)
                .map_err(|e| Forward::NotStored(e.to_string()))?;
            message::retained_publish_body(&[RetainedOutgoing {
                message: outgoing,
                stored,
            }])
        } else {
            message::publish_body(&[outgoing])
        };
        self.platform
            .publisher
            .publish(self.config, body)
            .map_err(|why| match p.retain {
                true => Forward::NotDelivered(format!(
                    "stored as the retained message but not delivered live: {why}"
                )),
                false => Forward::NotDelivered(why),
            })
    }

    /// Sends the retained message of `topic` (if any, not expired, and newer than `after`)
    /// to the client, with RETAIN set and the remaining expiry; returns the slot version.
    fn send_retained(&mut self, topic: &str, after: Version) -> Result<Version, Error> {
        let slot = retained::read(&*self.platform.kv, self.now, topic)?;
        if slot.version <= after {
            return Ok(slot.version);
        }
        if let Some(msg) = slot.message {
            let expiry = msg.remaining_secs(self.now);
            let packet = message::mqtt_publish(
                self.version(),
                topic,
                &msg.payload,
                msg.mqtt.as_ref(),
                expiry,
                true,
            );
            self.send_raw(&packet);
        }
        Ok(slot.version)
    }

    /// Closes the race of a new subscription: a retained message published between the
    /// store read at SUBSCRIBE and the moment Fanout attached the subscription reached
    /// neither. Fanout attached it before sending this request, so a slot version newer
    /// than the one read then is such a message (or one also delivered live: at least
    /// once). Checked once per subscription, on the request after its SUBSCRIBE.
    pub(crate) fn recover_retained(&mut self) {
        if self.closed || self.session.version.is_none() {
            return;
        }
        let pending: Vec<(usize, Version)> = self
            .session
            .subs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.check.map(|v| (i, v)))
            .collect();
        for (i, seen) in pending {
            let topic = self.session.subs[i].topic();
            // A store failure leaves the check for the next request.
            if self.send_retained(&topic, seen).is_ok() {
                self.session.subs[i].check = None;
                self.session.touch("mqtt-subs");
            }
        }
    }
}

/// Why a client's message did not go out.
enum Forward {
    /// The retained message could not be stored; nothing was published.
    NotStored(String),
    /// The publish API refused it.
    NotDelivered(String),
}

/// [MQTT-3.1.2-24]: whether the client has sent no packet for more than one and a half
/// keep alive periods (`keep_alive` seconds, 0 = off) since `seen`. Both times are whole
/// seconds, so the real gap is more than `now - seen - 1` but may be almost a second less
/// than `now - seen`: the client is only timed out when even that shortest gap is too long,
/// never early (a client that pings every `keep_alive` seconds must not be cut off by
/// rounding).
fn keep_alive_expired(seen: u64, now: u64, keep_alive: u16) -> bool {
    let ka = u64::from(keep_alive);
    let gap_above = now.saturating_sub(seen).saturating_sub(1);
    ka > 0 && seen > 0 && gap_above * 2 >= ka * 3
}

/// The largest Will payload a connection may register: the Will travels in connection
/// metadata (a header) until the connection ends.
pub const MAX_WILL_BYTES: usize = 4096;

/// The Will of a CONNECT as the MQTT 5 PUBLISH to send when the session ends, or the
/// CONNACK refusal: the token must allow publishing to the Will Topic
/// [MQTT-3.1.2-8], the topic must be valid, the payload at most [`MAX_WILL_BYTES`].
fn will_packet(
    will: &mqtt::Will,
    principal: &Principal,
    config: &Config,
) -> Result<Vec<u8>, (ConnectReasonCode, String)> {
    if let Err(e) = topics::validate(&will.topic) {
        return Err((
            ConnectReasonCode::TopicNameInvalid,
            format!("Will Topic: {e}"),
        ));
    }
    if !principal.allows(Access::Write, &will.topic) {
        return Err((
            ConnectReasonCode::NotAuthorized,
            format!("the token may not publish the Will to {:?}", will.topic),
        ));
    }
    if will.payload.len() > MAX_WILL_BYTES.min(config.max_message_bytes) {
        return Err((
            ConnectReasonCode::QuotaExceeded,
            format!("the Will payload is larger than {MAX_WILL_BYTES} bytes"),
        ));
    }
    let props = message::mqtt_props(&will.properties);
    let mut packet = message::mqtt_publish(
        ProtocolVersion::V5,
        &will.topic,
        &will.payload,
        Some(&props),
        will.properties.message_expiry_interval,
        will.retain,
    );
    if packet.is_empty() {
        return Err((
            ConnectReasonCode::UnspecifiedError,
            "Will not encodable".into(),
        ));
    }
    packet.shrink_to_fit();
    Ok(packet)
}

/// The protocol level byte of a CONNECT packet, if it can be read.
fn connect_level(bytes: &[u8]) -> Option<u8> {
    // Fixed header: type byte and a Variable Byte Integer of up to 4 bytes.
    let vbi = bytes.get(1..)?.iter().position(|b| b & 0x80 == 0)? + 1;
    // Protocol name: 2-byte length (4) and "MQTT", then the level.
    bytes.get(1 + vbi + 6).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_level_is_read_from_a_connect_prefix() {
        assert_eq!(
            connect_level(&[0x10, 0x10, 0, 4, b'M', b'Q', b'T', b'T', 5]),
            Some(5)
        );
        assert_eq!(
            connect_level(&[0x10, 0x80, 0x01, 0, 4, b'M', b'Q', b'T', b'T', 4]),
            Some(4)
        );
        assert_eq!(connect_level(&[0x10]), None);
    }

    #[test]
    fn keep_alive_times_out_after_one_and_a_half_periods_never_early() {
        // Keep alive 1 s: a PINGREQ 1.05 s after the CONNECT can read as 2 s (10.98 -> 12.03).
        assert!(!keep_alive_expired(10, 12, 1));
        // 3 s on the clock is more than 2 s for real: over 1.5 s.
        assert!(keep_alive_expired(10, 13, 1));
        // 60 s: 90 s on the clock may be 89.01 s for real; 91 s is more than 90 s.
        assert!(!keep_alive_expired(100, 190, 60));
        assert!(keep_alive_expired(100, 191, 60));
        // Off, or no packet seen yet.
        assert!(!keep_alive_expired(10, 10_000, 0));
        assert!(!keep_alive_expired(0, 10_000, 1));
    }
}
