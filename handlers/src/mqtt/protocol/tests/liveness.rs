//! The deadlines checked at the start of a request, and when Fanout is asked to call
//! again, as tables.

use pubsub_codec::mqtt::DisconnectReasonCode;
use pubsub_core::tokens::EXPIRED;
use pubsub_core::{Config, Error};

use super::*;
use crate::mqtt::protocol::liveness::{callback_interval, check};

/// A fake whose session token verifies with `exp`, or is refused as expired.
fn token_exp(exp: Option<u64>) -> Fake {
    let mut fake = Fake::allowing();
    if let Ok(p) = fake.principal.as_mut() {
        p.exp = exp;
    }
    fake
}

#[test]
fn each_deadline_ends_the_session_with_its_reason() {
    let mut silent = session(V5);
    silent.seen = NOW - 92;
    let unconnected = Session {
        seen: NOW - 30,
        ..Session::default()
    };
    let ended_expired = || {
        vec![
            disconnect(DisconnectReasonCode::NotAuthorized, "the token has expired"),
            Effect::Close(1008),
        ]
    };
    let refused_expired = Fake::failing(Error::InvalidToken(EXPIRED.into()));
    let later_in_meta = Session {
        exp: Some(NOW + 86_400),
        ..session(V5)
    };
    let cases = vec![
        ("a healthy session", session(V5), Fake::allowing(), vec![]),
        (
            "an expired token",
            session(V5),
            token_exp(Some(NOW - 61)),
            ended_expired(),
        ),
        (
            "a token verification refuses as expired",
            session(V5),
            refused_expired,
            ended_expired(),
        ),
        (
            "metadata claiming a later exp than the verified token's",
            later_in_meta,
            token_exp(Some(NOW - 61)),
            ended_expired(),
        ),
        (
            "a key store failure leaves the decision to the next request",
            session(V5),
            Fake::failing(Error::StoreUnavailable("down".into())),
            vec![],
        ),
        (
            "silent for over 1.5 keep alives",
            silent.clone(),
            Fake::allowing(),
            vec![
                disconnect(DisconnectReasonCode::KeepAliveTimeout, "keep alive timeout"),
                Effect::Close(1008),
            ],
        ),
        (
            "3.1.1 has no DISCONNECT to send",
            {
                silent.version = Some(V311);
                silent
            },
            Fake::allowing(),
            vec![Effect::Close(1008)],
        ),
        (
            "no CONNECT 30 s after the OPEN",
            unconnected,
            Fake::allowing(),
            vec![Effect::Close(1008)],
        ),
    ];
    let config = Config::default();
    for (name, session, fake, expected) in cases {
        let mut state = State::new(session);
        assert_eq!(check(&mut state, &ctx(&fake, &config)), expected, "{name}");
    }
}

#[test]
fn metadata_saying_expired_ends_nothing_and_takes_the_verified_exp() {
    let mut session = session(V5);
    session.exp = Some(NOW - 61);
    let fake = token_exp(Some(NOW + 600));
    let config = Config::default();
    let mut state = State::new(session);
    assert_eq!(check(&mut state, &ctx(&fake, &config)), vec![]);
    assert_eq!(state.session.exp, Some(NOW + 600), "written back");
}

#[test]
fn fanout_is_asked_to_call_when_the_next_deadline_passes() {
    let mut short_token = session(V5);
    short_token.exp = Some(NOW + 10);
    let mut no_keep_alive = session(V5);
    no_keep_alive.keep_alive = 0;
    no_keep_alive.exp = None;
    let opened = Session {
        seen: NOW,
        ..Session::default()
    };
    let cases = vec![
        // Seen a second ago with keep alive 60: due 1 + 90 s after it.
        ("keep alive", session(V5), Some(90)),
        (
            "token expiry plus leeway, at least 20 s",
            short_token,
            Some(71),
        ),
        ("nothing due: an hour", no_keep_alive, Some(3600)),
        ("the CONNECT deadline", opened, Some(30)),
    ];
    let config = Config::default();
    let fake = Fake::allowing();
    for (name, session, expected) in cases {
        let state = State::new(session);
        assert_eq!(
            callback_interval(&state, &ctx(&fake, &config)),
            expected,
            "{name}"
        );
    }
    let closed = State {
        closed: true,
        ..State::default()
    };
    assert_eq!(callback_interval(&closed, &ctx(&fake, &config)), None);
}
