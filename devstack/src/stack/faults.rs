//! Faults under a running [`Stack`]: Pushpin and Viceroy stopped and started again on the
//! same ports, with the same configuration files and logs, and the publish API switched
//! off and on ([`crate::StackOptions::publish_relay`]).

use std::io;
use std::time::{Duration, Instant};

use super::ready::ready_timeout;
use super::Stack;
use crate::counting::{CountingRelay, RequestLog};
use crate::net;

/// How long a stopped service's ports may take to become free again.
const PORTS_FREE_TIMEOUT: Duration = Duration::from_secs(10);

impl Stack {
    /// Stops Pushpin (its runner stops condure, zurl, pushpin-proxy and pushpin-handler):
    /// every client connection it holds ends, Viceroy's handoffs fail and the app's
    /// publishes fail, until [`Stack::start_pushpin`]. Idempotent.
    pub fn stop_pushpin(&mut self) {
        if let Some(mut pushpin) = self.pushpin.take() {
            pushpin.stop_keeping_files(Duration::from_secs(15));
        }
    }

    /// Starts Pushpin again (after [`Stack::stop_pushpin`]) on the same ports with the same
    /// configuration, and waits until it is ready: its ports, and the whole chain when
    /// Viceroy runs. Only waits when Pushpin runs already.
    pub fn start_pushpin(&mut self) -> io::Result<()> {
        if self.pushpin.is_none() {
            wait_ports_free(&[self.proxy_port, self.publish_port])?;
            self.spawn_pushpin()?;
        }
        self.wait_ready(ready_timeout())
    }

    /// [`Stack::stop_pushpin`], then [`Stack::start_pushpin`].
    pub fn restart_pushpin(&mut self) -> io::Result<()> {
        self.stop_pushpin();
        self.start_pushpin()
    }

    /// Stops Viceroy: requests to the app fail (connection refused) until
    /// [`Stack::start_viceroy`]; what Pushpin holds stays open. Idempotent.
    pub fn stop_viceroy(&mut self) {
        if let Some(mut viceroy) = self.viceroy.take() {
            viceroy.stop_keeping_files(Duration::from_secs(10));
        }
    }

    /// Starts Viceroy again (after [`Stack::stop_viceroy`]) on the same port with the same
    /// configuration, and waits until it is ready: its port, and the whole chain when
    /// Pushpin runs. Only waits when Viceroy runs already. Viceroy's KV stores are in
    /// memory: what the app stored before is gone.
    pub fn start_viceroy(&mut self) -> io::Result<()> {
        if self.viceroy.is_none() {
            wait_ports_free(&[self.app_port])?;
            self.spawn_viceroy()?;
        }
        self.wait_ready(ready_timeout())
    }

    /// [`Stack::stop_viceroy`], then [`Stack::start_viceroy`].
    pub fn restart_viceroy(&mut self) -> io::Result<()> {
        self.stop_viceroy();
        self.start_viceroy()
    }

    /// Takes the publish API down (`false`) or brings it back (`true`): the relay in front
    /// of Pushpin's publish port cuts the app's connections and closes new ones without an
    /// answer, so publishing fails as if the API were unreachable. Pushpin itself keeps
    /// running. Needs [`crate::StackOptions::publish_relay`].
    pub fn set_publish_api(&self, up: bool) -> io::Result<()> {
        self.relay()?.set_open(up);
        Ok(())
    }

    /// The publish requests that reached the publish relay so far (whether or not they got
    /// through), when the stack was started with [`crate::StackOptions::publish_relay`].
    pub fn publish_requests(&self) -> Option<RequestLog> {
        self.publish_relay.as_ref().map(CountingRelay::log)
    }

    fn relay(&self) -> io::Result<&CountingRelay> {
        self.publish_relay.as_ref().ok_or_else(|| {
            io::Error::other("the stack was started without `publish_relay`: no publish switch")
        })
    }
}

/// Waits until every port of `ports` can be bound again.
fn wait_ports_free(ports: &[u16]) -> io::Result<()> {
    let deadline = Instant::now() + PORTS_FREE_TIMEOUT;
    for &port in ports {
        while let Err(e) = net::check_port_free(port, "a stopped service's") {
            if Instant::now() >= deadline {
                return Err(e);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}
