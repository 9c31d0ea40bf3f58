//! Running the batches: one [`Module`] per build, each on its own stack (Pushpin +
//! Viceroy; the publish paths need Pushpin's publish API and the handoff its proxy), and
//! the CPU time Viceroy spends on a batch (`pubsub_measure::cpu`).

use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pubsub_devstack::{Stack, StackOptions};
use pubsub_measure::cpu::CpuMeter;

use crate::client::Client;
use crate::mqtt::Meta;
use crate::paths::{self, Ctx, Path};
use crate::wasm::Built;

/// One batch of one path on one module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Viceroy's CPU time (user + system, all threads) per request, in µs.
    pub(crate) cpu_us: f64,
    /// Requests per second, one client sending them one after another.
    pub(crate) rps: f64,
    /// The status of the batch's answers.
    pub(crate) status: u16,
    /// Whether `cpu_us` comes from the threads' ns counters (else from clock ticks).
    pub(crate) precise: bool,
}

/// A build running on its own stack.
pub(crate) struct Module {
    /// `b` for the baseline, `c` for the current tree (keeps topics apart).
    pub(crate) tag: char,
    pub(crate) built: Built,
    stack: Stack,
    client: Client,
    pid: u32,
    grip_sig: String,
    meta: Meta,
    clk_tck: f64,
}

impl Module {
    /// Starts `built` on a fresh stack with `max-topics = 10` (the current default is 9,
    /// the baseline's 10) and the Config Store entries `extra`, and leaves a retained
    /// message on the durable path's topic.
    pub(crate) fn start(
        tag: char,
        built: Built,
        clk_tck: f64,
        extra: &[(String, String)],
    ) -> io::Result<Self> {
        let mut config = vec![("max-topics".into(), paths::MANY.to_string())];
        config.extend_from_slice(extra);
        let stack = Stack::start(StackOptions {
            quiet: true,
            wasm: built.wasm.clone(),
            config,
            ..StackOptions::default()
        })?;
        let pid = stack
            .viceroy_pid()
            .ok_or_else(|| io::Error::other("Viceroy is not running"))?;
        let grip_sig = grip_sig(stack.grip_key())?;
        let client = Client::new(stack.app_port());
        let mut module = Self {
            tag,
            built,
            stack,
            client,
            pid,
            grip_sig,
            meta: Meta::default(),
            clk_tck,
        };
        module.retain_durable_message()?;
        Ok(module)
    }

    fn retain_durable_message(&mut self) -> io::Result<()> {
        let topic = paths::DURABLE_TOPIC;
        let token = pubsub_devstack::dev_token(&[], &[topic]);
        let req = crate::client::Req::post(
            format!("/events?topic={topic}&retain=true"),
            b"retained message for the durable subscribe".to_vec(),
        )
        .header("authorization", format!("Bearer {token}"));
        let answer = self.client.send(&req)?;
        if answer.status != 200 {
            return Err(io::Error::other(format!(
                "retained publish to {topic}: status {}",
                answer.status
            )));
        }
        Ok(())
    }

    /// Opens a fresh MQTT connection (untimed): its state is what the SUBSCRIBE and
    /// PUBLISH batches of `round` carry, so it never goes stale.
    pub(crate) fn connect_mqtt(&mut self, round: usize) -> io::Result<()> {
        let ctx = self.ctx(round);
        let req = paths::build(Path::MqttConnect, &ctx, 1).remove(0);
        let answer = self.client.send(&req)?;
        paths::check(Path::MqttConnect, &answer).map_err(io::Error::other)?;
        let mut meta = Meta::default();
        meta.apply(&answer);
        if meta.len() == 0 {
            return Err(io::Error::other(
                "CONNECT answer set no connection metadata",
            ));
        }
        self.meta = meta;
        Ok(())
    }

    fn ctx(&self, round: usize) -> Ctx<'_> {
        Ctx {
            grip_sig: &self.grip_sig,
            meta: &self.meta,
            tag: format!("{}{round}", self.tag),
        }
    }

    /// Sends `n` requests of `path` (built before the clock starts), checks every answer,
    /// and measures Viceroy's CPU time and the wall time.
    pub(crate) fn batch(&mut self, path: Path, round: usize, n: usize) -> io::Result<Sample> {
        self.stack.check_running()?;
        let reqs = paths::build(path, &self.ctx(round), n);
        let meter = CpuMeter::start(self.pid)?;
        let start = Instant::now();
        let mut status = 0;
        for req in &reqs {
            let answer = self.client.send(req)?;
            paths::check(path, &answer).map_err(io::Error::other)?;
            status = answer.status;
        }
        let wall = start.elapsed().as_secs_f64();
        let (cpu_s, precise) = meter.elapsed(self.clk_tck)?;
        let count = reqs.len().max(1) as f64;
        Ok(Sample {
            cpu_us: cpu_s * 1e6 / count,
            rps: count / wall.max(1e-9),
            status,
            precise,
        })
    }

    /// One request of every path, printed with its answer (`--show`), untimed.
    pub(crate) fn show(&mut self) -> io::Result<()> {
        self.connect_mqtt(0)?;
        for path in Path::ALL {
            let req = paths::build(path, &self.ctx(0), 1).remove(0);
            let answer = self.client.send(&req)?;
            let body = &answer.body[..answer.body.len().min(400)];
            println!(
                "--- {} {} ({} {}): {}\n{:?}\n{}",
                self.built.label,
                path.slug(),
                req.method,
                req.target.get(..80).unwrap_or(&req.target),
                answer.status,
                answer.headers,
                String::from_utf8_lossy(body)
            );
        }
        Ok(())
    }

    /// Stops the stack (also done on drop).
    pub(crate) fn stop(&mut self) {
        self.stack.stop();
    }
}

/// The local `Grip-Sig`: an HS256 JWT with the stack's `grip-sig-key`, issuer `pushpin`
/// (what Pushpin signs with), valid for an hour.
fn grip_sig(key: &str) -> io::Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(io::Error::other)?
        .as_secs();
    let claims = serde_json::json!({ "iss": "pushpin", "exp": now + 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .map_err(io::Error::other)
}
