//! Real MQTT 5 and 3.1.1 clients (rumqttc, over WebSocket) for the end-to-end tests, with
//! their events read on a thread and taken with a timeout.
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet};
use rumqttc::v5::{Client, ConnectionError, Event, MqttOptions};
use rumqttc::Transport;

use crate::e2e::stack;

pub struct Mqtt {
    pub client: Client,
    events: Receiver<Result<Packet, String>>,
}

/// Options for a client of the shared stack with `token` as the password.
pub fn options(id: &str, token: &str) -> MqttOptions {
    options_at(&stack().app_url(), id, token)
}

/// Options for a client of the app at `app_url` with `token` as the password.
pub fn options_at(app_url: &str, id: &str, token: &str) -> MqttOptions {
    let url = app_url.replace("http://", "ws://") + "/mqtt";
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let mut opts = MqttOptions::new(id, url, port);
    opts.set_transport(Transport::Ws);
    opts.set_credentials("", token);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(Some(64 * 1024));
    opts
}

impl Mqtt {
    /// Connects; `Err` carries the CONNACK refusal.
    pub fn connect(id: &str, token: &str) -> Result<Mqtt, ConnectReturnCode> {
        Self::connect_with(options(id, token))
    }

    /// Connects with `opts` (see [`options`]).
    pub fn connect_with(opts: MqttOptions) -> Result<Mqtt, ConnectReturnCode> {
        let (client, mut connection) = Client::new(opts, 256);
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                let item = match event {
                    Ok(Event::Incoming(p)) => Ok(p),
                    Ok(Event::Outgoing(_)) => continue,
                    Err(ConnectionError::ConnectionRefused(code)) => Err(format!("{code:?}")),
                    Err(e) => Err(e.to_string()),
                };
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
        });
        let mqtt = Mqtt { client, events };
        match mqtt.next() {
            Some(Ok(Packet::ConnAck(_))) => Ok(mqtt),
            Some(Err(e)) if e.contains("NotAuthorized") => Err(ConnectReturnCode::NotAuthorized),
            Some(Err(e)) if e.contains("ServerUnavailable") => {
                Err(ConnectReturnCode::ServerUnavailable)
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// The next incoming packet other than PINGRESP, waiting at most 10 s.
    pub fn next(&self) -> Option<Result<Packet, String>> {
        self.next_within(Duration::from_secs(10))
    }

    pub fn next_within(&self, wait: Duration) -> Option<Result<Packet, String>> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left).ok()? {
                Ok(Packet::PingResp(_)) => continue,
                other => return Some(other),
            }
        }
    }

    /// The next packet, which must exist.
    pub fn expect(&self, what: &str) -> Packet {
        match self.next() {
            Some(Ok(p)) => p,
            other => panic!("expected {what}, got {other:?}"),
        }
    }
}

/// An MQTT 3.1.1 client; its receiver yields `Err` once the connection is closed.
pub struct Mqtt311 {
    pub client: rumqttc::Client,
    events: Receiver<Result<rumqttc::Packet, String>>,
}

impl Mqtt311 {
    /// Connects to the shared stack and waits for a successful CONNACK.
    pub fn connect(id: &str, token: &str) -> Mqtt311 {
        Self::connect_at(&stack().app_url(), id, token)
    }

    /// Connects to the app at `app_url` and waits for a successful CONNACK.
    pub fn connect_at(app_url: &str, id: &str, token: &str) -> Mqtt311 {
        match Self::try_connect_at(app_url, id, token) {
            Ok(client) => client,
            Err(code) => panic!("CONNACK {code:?}"),
        }
    }

    /// Connects to the app at `app_url`; `Err` carries a refusing CONNACK's return code.
    pub fn try_connect_at(
        app_url: &str,
        id: &str,
        token: &str,
    ) -> Result<Mqtt311, rumqttc::ConnectReturnCode> {
        let (host, port) = options_at(app_url, id, token).broker_address();
        let mut opts = rumqttc::MqttOptions::new(id, host, port);
        opts.set_transport(Transport::Ws);
        // MQTT 3.1.1 allows a password only with a user name [MQTT-3.1.2-22].
        opts.set_credentials("user", token);
        opts.set_keep_alive(Duration::from_secs(30));
        let (client, mut connection) = rumqttc::Client::new(opts, 16);
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                let item = match event {
                    Ok(rumqttc::Event::Incoming(p)) => Ok(p),
                    Ok(rumqttc::Event::Outgoing(_)) => continue,
                    Err(e) => Err(e.to_string()),
                };
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
        });
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(rumqttc::Packet::ConnAck(ack))) => {
                assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success);
                Ok(Mqtt311 { client, events })
            }
            // rumqttc reports a refusing CONNACK as the error that ends its loop.
            Ok(Err(e)) if e.contains("ServiceUnavailable") => {
                Err(rumqttc::ConnectReturnCode::ServiceUnavailable)
            }
            Ok(Err(e)) if e.contains("NotAuthorized") => {
                Err(rumqttc::ConnectReturnCode::NotAuthorized)
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// The next incoming packet other than PINGRESP, waiting at most `wait`.
    pub fn next_within(&self, wait: Duration) -> Option<Result<rumqttc::Packet, String>> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left).ok()? {
                Ok(rumqttc::Packet::PingResp) => continue,
                other => return Some(other),
            }
        }
    }

    /// Waits up to `wait` for the connection to end; whether it did.
    pub fn closed_within(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Ok(_)) => continue,
                Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}
