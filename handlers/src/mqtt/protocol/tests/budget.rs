//! The per-request packet budget and the keep alive floor, as tables.

use pubsub_codec::mqtt::Publish;

use super::*;
use crate::mqtt::protocol::connect::honoured_keep_alive;

/// Handles `packets` in one request on an MQTT `version` session under `limits`; the
/// effects of the last packet and the state after.
fn request(version: ProtocolVersion, packets: &[Packet], config: &Config) -> (Effects, State) {
    let fake = Fake::allowing();
    let mut state = State::new(session(version));
    let mut fx = Effects::new();
    for packet in packets {
        let mut bytes = Vec::new();
        packet.encode(version, &mut bytes).expect("encodable");
        fx = super::super::handle(&mut state, &bytes, &ctx(&fake, config));
    }
    (fx, state)
}

fn limited(publishes: usize, control: usize) -> Config {
    let mut config = Config::default();
    config.mqtt_limits.publishes_per_request = publishes;
    config.mqtt_limits.control_per_request = control;
    config
}

#[test]
fn the_packet_one_over_a_budget_ends_the_session_naming_the_limit() {
    let publish = Packet::Publish(Publish::new("a", b"x".as_slice()));
    let quota = DisconnectReasonCode::QuotaExceeded;
    let pub_text = "more than 2 PUBLISH packets in one request (mqtt-limits `publishes`); \
                    send fewer per write";
    let ctl_text = "more than 2 SUBSCRIBE, UNSUBSCRIBE, PINGREQ and PUBREL packets in one \
                    request (mqtt-limits `control`); send fewer per write";
    let cases: Vec<(&str, ProtocolVersion, Vec<Packet>, Vec<Effect>)> = vec![
        (
            "the third PUBLISH (v5)",
            V5,
            vec![publish.clone(), publish.clone(), publish.clone()],
            vec![disconnect(quota, pub_text), Effect::Close(1008)],
        ),
        (
            "the third PUBLISH (3.1.1)",
            V311,
            vec![publish.clone(), publish.clone(), publish.clone()],
            vec![Effect::Close(1008)],
        ),
        (
            "the third PINGREQ",
            V5,
            vec![Packet::PingReq, Packet::PingReq, Packet::PingReq],
            vec![disconnect(quota, ctl_text), Effect::Close(1008)],
        ),
        (
            "PUBLISH and PINGREQ count apart",
            V5,
            vec![Packet::PingReq, publish.clone(), Packet::PingReq, publish],
            vec![],
        ),
    ];
    for (name, version, packets, want) in cases {
        let (fx, state) = request(version, &packets, &limited(2, 2));
        let fx: Vec<Effect> = fx
            .into_iter()
            .filter(|e| !matches!(e, Effect::Publish { .. }))
            .collect();
        assert_eq!(fx, want, "{name}");
        assert_eq!(state.closed, !want.is_empty(), "{name}");
    }
}

#[test]
fn a_disconnect_is_handled_whatever_the_budget() {
    let config = limited(1, 1);
    let packets = [
        Packet::PingReq,
        Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection)),
    ];
    let (fx, state) = request(V5, &packets, &config);
    assert_eq!(fx.last(), Some(&Effect::Close(1000)));
    assert!(state.closed);
}

#[test]
fn no_keep_alive_but_0_is_honoured_below_the_floor() {
    let mut config = Config::default();
    config.mqtt_server_keep_alive = 0;
    config.mqtt_limits.min_keep_alive = 30;
    let mut server = config.clone();
    server.mqtt_server_keep_alive = 10;
    for (name, version, client, config, want) in [
        ("v5 under the floor", V5, 1, &config, 30),
        ("v5 above it", V5, 60, &config, 60),
        ("v5 no keep alive", V5, 0, &config, 0),
        ("3.1.1 under the floor", V311, 5, &config, 30),
        ("3.1.1 no keep alive", V311, 0, &config, 0),
        ("a Server Keep Alive under the floor", V5, 100, &server, 30),
        ("3.1.1 ignores Server Keep Alive", V311, 45, &server, 45),
    ] {
        assert_eq!(honoured_keep_alive(version, client, config), want, "{name}");
    }
}
