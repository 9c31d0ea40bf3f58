//! Protocol rules as tables of (session, packet) → effects, with no HTTP and no platform:
//! a [`Fake`] stands in for the ports. The same rules end to end, through the driver and a
//! simulated proxy: `mqtt/tests.rs`.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{
    ConnAck, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode, Packet, ProtocolVersion,
};
use pubsub_core::audience::{Audience, Feed};
use pubsub_core::mqtt_session::{takeover, Session, Sub};
use pubsub_core::principal::Principal;
use pubsub_core::topic::Selector;
use pubsub_core::{Config, Error};

use super::effects::{Effect, Effects};
use super::state::{Context, Ports, State};

mod budget;
mod liveness;
mod publish;
mod subscribe;

use ProtocolVersion::{V311, V5};

/// The clock of every case.
const NOW: u64 = 1_000_000;
const CONN: &str = "conn-1";

/// The ports of a case: what token verification and the rate limit answer.
struct Fake {
    /// What the session's (or a CONNECT's) token verifies to; `"bad"` never verifies.
    principal: Result<Principal, Error>,
    rate: Result<(), String>,
    /// Whether the registry of listened channels refuses registrations.
    registry_down: bool,
    /// The channels registered, in order.
    registered: std::cell::RefCell<Vec<String>>,
}

impl Fake {
    /// A token that may read and write `a` and `w/#`.
    fn allowing() -> Self {
        Self {
            principal: Ok(principal(&["a", "w/#"], &["a", "will"])),
            rate: Ok(()),
            registry_down: false,
            registered: Default::default(),
        }
    }

    fn failing(e: Error) -> Self {
        Self {
            principal: Err(e),
            ..Self::allowing()
        }
    }

    fn rate_limited() -> Self {
        Self {
            rate: Err("over 2/s".into()),
            ..Self::allowing()
        }
    }
}

impl Ports for Fake {
    fn verify(&self, token: &str) -> Result<Principal, Error> {
        match token {
            "bad" => Err(Error::InvalidToken("bad signature".into())),
            _ => self.principal.clone(),
        }
    }
    fn random(&self) -> Option<[u8; 8]> {
        Some([0xab; 8])
    }
    fn register(&self, channel: &str) -> Result<(), Error> {
        if self.registry_down {
            return Err(Error::StoreUnavailable("registry down".into()));
        }
        self.registered.borrow_mut().push(channel.to_owned());
        Ok(())
    }
    fn admit_publish(&self) -> Result<(), String> {
        self.rate.clone()
    }
}

fn principal(read: &[&str], write: &[&str]) -> Principal {
    Principal {
        read: read.iter().map(|s| claim(s)).collect(),
        write: write.iter().map(|s| claim(s)).collect(),
        exp: Some(NOW + 3600),
        kid: "k".into(),
        ..Principal::default()
    }
}

fn claim(s: &str) -> Selector {
    Selector::claim(s.to_owned()).expect("claim")
}

fn ctx<'a>(fake: &'a Fake, config: &'a Config) -> Context<'a> {
    Context {
        now: NOW,
        config,
        connection_id: CONN,
        ports: fake,
    }
}

/// An established session of `version`, last seen a second ago.
fn session(version: ProtocolVersion) -> Session {
    Session {
        version: Some(version),
        token: Some("tok".into()),
        exp: Some(NOW + 3600),
        keep_alive: 60,
        seen: NOW - 1,
        ..Session::default()
    }
}

/// The session with a subscription to `topic` (MQTT 5 channel).
fn subscribed(version: ProtocolVersion, topic: &str) -> Session {
    let mut s = session(version);
    s.subs
        .push(Sub::new(Feed::Live.channel(topic), &Default::default()));
    s
}

fn id(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("nonzero")
}

/// Handles `packet`, encoded in the session's version, on `session`.
fn step(session: Session, packet: &Packet, fake: &Fake) -> (Effects, State) {
    let config = Config::default();
    let mut state = State::new(session);
    let mut bytes = Vec::new();
    packet
        .encode(state.version(), &mut bytes)
        .expect("encodable");
    let fx = super::handle(&mut state, &bytes, &ctx(fake, &config));
    (fx, state)
}

fn send(version: ProtocolVersion, packet: Packet) -> Effect {
    Effect::Send { packet, version }
}

/// An MQTT 5 DISCONNECT with `reason` and `text`.
fn disconnect(reason: DisconnectReasonCode, text: &str) -> Effect {
    let mut d = Disconnect::new(reason);
    d.properties.reason_string = Some(text.into());
    send(V5, Packet::Disconnect(d))
}

/// Runs a table: each case's effects must be exactly the expected ones.
fn check_table(cases: Vec<(&str, Session, Packet, Fake, Vec<Effect>)>) {
    for (name, session, packet, fake, expected) in cases {
        let (fx, _) = step(session, &packet, &fake);
        assert_eq!(fx, expected, "{name}");
    }
}

#[test]
fn packets_that_do_not_belong_in_a_session_end_it_with_the_reason() {
    let second = Packet::Connect(Box::new(Connect::new(V5, "c")));
    let protocol_error = DisconnectReasonCode::ProtocolError;
    check_table(vec![
        (
            "PINGREQ gets PINGRESP",
            session(V5),
            Packet::PingReq,
            Fake::allowing(),
            vec![Effect::SendRaw(vec![0xd0, 0])],
        ),
        (
            "a second CONNECT",
            session(V5),
            second.clone(),
            Fake::allowing(),
            vec![
                disconnect(
                    protocol_error,
                    "[MQTT-3.1.0-2] a second CONNECT is a protocol error",
                ),
                Effect::Close(1008),
            ],
        ),
        (
            "a second CONNECT in 3.1.1 just closes",
            session(V311),
            Packet::Connect(Box::new(Connect::new(V311, "c"))),
            Fake::allowing(),
            vec![Effect::Close(1008)],
        ),
        (
            "a CONNACK from the client",
            session(V5),
            Packet::ConnAck(ConnAck::new(ConnectReasonCode::Success)),
            Fake::allowing(),
            vec![
                disconnect(protocol_error, "a client may not send CONNACK here"),
                Effect::Close(1008),
            ],
        ),
    ]);
}

/// A CONNECT with `token` as its password.
fn connect(version: ProtocolVersion, token: &str) -> Packet {
    let mut c = Connect::new(version, "client");
    c.password = Some(token.as_bytes().to_vec());
    c.username = Some("u".into());
    c.keep_alive = 60;
    Packet::Connect(Box::new(c))
}

#[test]
fn a_connect_is_accepted_or_refused_by_its_token() {
    let fresh = Session::default;
    let (fx, state) = step(fresh(), &connect(V5, "tok"), &Fake::allowing());
    let [Effect::TakeOver(bodies), Effect::Send {
        packet: Packet::ConnAck(ack),
        version: V5,
    }, listen, own, identify] = fx.as_slice()
    else {
        panic!("{fx:?}");
    };
    // The older connection of the client id is ended before this one listens there.
    assert_eq!(bodies, &takeover::takeover_requests("k:k", "client", CONN));
    assert_eq!(
        own,
        &Effect::Listen {
            channel: takeover::channel(V5, "k:k", "client"),
            skip_self: true
        }
    );
    assert!(ack.reason_code.is_success());
    assert_eq!(ack.properties.server_keep_alive, Some(300));
    let key = Audience::mqtt(ProtocolVersion::V5, false).key_channel("k");
    assert_eq!(
        listen,
        &Effect::Listen {
            channel: key,
            skip_self: false
        }
    );
    assert_eq!(identify, &Effect::IdentifyAs(CONN.into()));
    let s = &state.session;
    assert_eq!(
        (s.version, s.keep_alive, s.exp),
        (Some(V5), 300, Some(NOW + 3600))
    );
    assert_eq!(s.token.as_deref(), Some("tok"));

    // An assigned client id has no older connection, and nobody can take it over.
    let mut c = Connect::new(V5, "");
    c.password = Some(b"tok".to_vec());
    let (fx, _) = step(fresh(), &Packet::Connect(Box::new(c)), &Fake::allowing());
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::TakeOver(_))),
        "{fx:?}"
    );
    let listens = fx.iter().filter(|e| matches!(e, Effect::Listen { .. }));
    assert_eq!(listens.count(), 1, "the key channel only");

    for (version, code) in [(V5, 0x87u8), (V311, 0x05)] {
        let (fx, state) = step(fresh(), &connect(version, "bad"), &Fake::allowing());
        let [Effect::Send { packet, version: v }, Effect::Close(1008)] = fx.as_slice() else {
            panic!("{fx:?}");
        };
        let mut bytes = Vec::new();
        packet.encode(*v, &mut bytes).expect("encodable");
        assert_eq!((bytes[0], bytes[3]), (0x20, code), "{version:?}");
        assert_eq!(state.session, Session::default(), "no session is left");
    }
}

#[test]
fn a_first_packet_that_is_not_connect_closes_with_1002() {
    let (fx, _) = step(Session::default(), &Packet::PingReq, &Fake::allowing());
    assert_eq!(fx, [Effect::Close(1002)]);
}

#[test]
fn a_store_failure_at_connect_is_server_unavailable() {
    let fake = Fake::failing(Error::StoreUnavailable("kv".into()));
    let (fx, _) = step(Session::default(), &connect(V5, "tok"), &fake);
    let [Effect::Send {
        packet: Packet::ConnAck(ack),
        ..
    }, Effect::Close(1008)] = fx.as_slice()
    else {
        panic!("{fx:?}");
    };
    assert_eq!(ack.reason_code, ConnectReasonCode::ServerUnavailable);
}
