//! A real MQTT 5 client (rumqttc, over WebSocket) for the end-to-end tests, with its
//! events read on a thread and taken with a timeout.
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
    let url = stack().app_url().replace("http://", "ws://") + "/mqtt";
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
