//! The bad-input corpus: one table of inputs a client, a forger or a careless admin can
//! send, each run against the real stack (Pushpin + Viceroy running the release wasm),
//! with the answer it must get.
//!
//! Each row names the input, the expected outcome and a substring of the expected one-line
//! error text:
//!
//! - HTTP rows (publish, subscribe, `Grip-Sig`, admin): the status, and a substring of the
//!   body (for a subscribe, the `stream-error` event).
//! - MQTT rows: raw bytes over a raw WebSocket (tungstenite), so that the corpus can send
//!   what a real MQTT client refuses to produce. The outcome is the transcript of what came
//!   back, e.g. `CONNACK 0x87 + close 1008` (MQTT packets by type and reason code, then the
//!   WebSocket close code), or `HTTP 400` when the handshake was refused; the text is the
//!   MQTT 5 Reason String (or the refusal's body).
//!
//! Rows about headers only the proxy may send (`Grip-Last`, `Meta-*`) show the effect of
//! ignoring them: the stream or connection behaves as if they had not been sent.
//!
//! After the corpus, Viceroy's log must show no panic and no wasm trap, and no row may
//! have been answered with a 500. Rows run on a few threads (about 10 s here).

#[path = "support/e2e.rs"]
mod e2e;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pubsub_devstack::{DEV_KEY_ID, DEV_KEY_SECRET};
use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::Message;

const ADMIN_TOKEN: &str = "local-admin-token";

/// The corpus's stack keeps history for topics under `hist/` (the history rows), at most
/// 3 messages each, and serves the Mercure hub without anonymous subscribers.
const CONFIG: &[(&str, &str)] = &[
    ("history", "hist/# 3 1h"),
    ("mercure", "on; default-kid dev"),
];

/// The corpus's stack (with [`CONFIG`]).
fn stack() -> &'static pubsub_devstack::Stack {
    stack_with(CONFIG)
}

/// A throwaway P-256 key pair made for this test (`openssl genpkey`): the public half is
/// registered as an ES256 key; tokens are signed with the private half.
const ES256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECQJIrP+7R7s8+4GXbzr661RNmhh0
/PK7HXzlUihNv7Ge6ityZhyTA4/gYfKqRdRsuQFE7boFTywzgBy9013KwA==
-----END PUBLIC KEY-----
";
const ES256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgn4jFyEb4az0x7scW
7uhR17GFqyBwVUZG/r9/8ABlyp2hRANCAAQJAkis/7tHuzz7gZdvOvrrVE2aGHT8
8rsdfOVSKE2/sZ7qK3JmHJMDj+Bh8qpF1Gy5AUTtugVPLDOAHL3TXcrA
-----END PRIVATE KEY-----
";
/// Another P-256 private key: a forger's.
const ES256_OTHER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzSHoeRkmgVdeRlg1
ZZrxDrVezJ6XvZyfmBOAaOvY5OqhRANCAARMXGlqnMSf4oDrRhuBqRGlkpj/mgF0
22r9qylOYURldfSv6KgbuZQ+419VsuMnQIQMphzDW54ZLRwuPWpSXCPe
-----END PRIVATE KEY-----
";
/// An RSA public key (1024 bits, made for this test): the broker verifies no RSA.
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDIUtBC+1q4OojBbLEEqXfnzc4J
l5xUrtMNEe4RxU8pU0wuxv2dJ0WRcDccaQXjLsrRFxAlqEXzkNSaXomuJVG0I38i
3TKRUr7Fqi5oVnkmTQ6xY8ne4xnlkkbQljbRU1ByS3hhOM0p1IEfQpaA8b2eJmaP
NJQZ/lDoHYWaV2BatQIDAQAB
-----END PUBLIC KEY-----
";

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Where a row belongs, for the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Area {
    Publish,
    Subscribe,
    History,
    GripSig,
    Mqtt5,
    Mqtt311,
    WebSocket,
    Admin,
    Mercure,
}

/// One bad input and what it must get.
struct Row {
    area: Area,
    name: String,
    input: Input,
    /// The outcome: an HTTP status (`"401"`), or an MQTT transcript
    /// (`"CONNACK 0x87 + close 1008"`).
    want: String,
    /// A substring of the error text (body, or MQTT Reason String).
    text: String,
}

enum Input {
    /// An HTTP request to the app (through `ureq`).
    Http(Http),
    /// Bytes written as they are to the app's port: an HTTP request `ureq` would refuse
    /// to send.
    Raw(Vec<u8>),
    /// A WebSocket to `/mqtt`.
    Ws(Ws),
}

struct Http {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Ws {
    /// MQTT 5 or 3.1.1 (how to read the answers).
    v5: bool,
    /// The subprotocol the handshake offers.
    protocol: Option<&'static str>,
    /// More handshake headers.
    headers: Vec<(String, String)>,
    /// A CONNECT sent first, whose successful CONNACK is not part of the outcome.
    connect: Option<Vec<u8>>,
    /// Then these frames.
    frames: Vec<Frame>,
}

enum Frame {
    Bin(Vec<u8>),
    Text(&'static str),
    Close,
}

/// What an input got.
struct Got {
    code: String,
    text: String,
}

/// Collects rows of one area.
struct Table {
    area: Area,
    rows: Vec<Row>,
}

impl Table {
    fn new(area: Area) -> Self {
        Self {
            area,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, name: &str, input: Input, want: &str, text: &str) {
        self.rows.push(Row {
            area: self.area,
            name: name.to_owned(),
            input,
            want: want.to_owned(),
            text: text.to_owned(),
        });
    }
}

fn http(method: &'static str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Input {
    Input::Http(Http {
        method,
        path: path.to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_vec(),
    })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A WebSocket offering `mqtt` that first connects with `connect` (if any), then sends
/// `packets` as one binary frame each.
fn ws(v5: bool, connect: Option<Vec<u8>>, packets: Vec<Vec<u8>>) -> Input {
    Input::Ws(Ws {
        v5,
        protocol: Some("mqtt"),
        headers: Vec::new(),
        connect,
        frames: packets.into_iter().map(Frame::Bin).collect(),
    })
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims reading and writing `topic`, expiring in an hour.
fn claims(topic: &str) -> Value {
    json!({"x-fastly-read": [topic], "x-fastly-write": [topic], "exp": now() + 3600})
}

/// `claims` with `changes` merged in (a `null` removes the claim).
fn claims_with(topic: &str, changes: Value) -> Value {
    let mut c = claims(topic);
    for (k, v) in changes.as_object().cloned().unwrap_or_default() {
        match (c.as_object_mut(), v) {
            (Some(map), Value::Null) => {
                map.remove(&k);
            }
            (Some(map), v) => {
                map.insert(k, v);
            }
            (None, _) => {}
        }
    }
    c
}

/// A JWT signed with `alg` and `key`, header `kid` = `kid`.
fn signed(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("signed")
}

fn hs256(kid: &str, secret: &str, claims: &Value) -> String {
    signed(
        Algorithm::HS256,
        Some(kid),
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

/// A dev-key token with these claims.
fn dev(claims: &Value) -> String {
    hs256(DEV_KEY_ID, DEV_KEY_SECRET, claims)
}

/// `header.claims.signature` with the parts given as they are (no signing).
fn assembled(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// An HS256 token of the dev key whose claims are exactly the JSON text `claims` (which
/// may hold what a JSON value cannot, such as a key twice).
fn raw_dev(claims: &str) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.as_bytes())
    );
    let key = EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes());
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("sign");
    format!("{input}.{sig}")
}

/// A `Grip-Sig` signed with `key`, with claims `claims`.
fn grip_sig(key: &str, claims: &Value) -> String {
    signed(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(key.as_bytes()),
        claims,
    )
}

// ---------------------------------------------------------------------------------------
// MQTT packets, built by hand
// ---------------------------------------------------------------------------------------

fn put_vbi(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = u8::try_from(n % 128).unwrap_or(0);
        n /= 128;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A packet: first byte, Remaining Length, body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    put_vbi(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// A length-prefixed string or binary field.
fn s(bytes: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(bytes.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(bytes);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A CONNECT with protocol `name` and `level`, connect `flags`, MQTT 5 `props` (if any),
/// and `payload` (client id, Will, user name, password, as the flags say).
fn connect_raw(name: &str, level: u8, flags: u8, props: Option<&[u8]>, payload: &[u8]) -> Vec<u8> {
    let mut body = s(name.as_bytes());
    body.extend([level, flags, 0, 30]);
    if let Some(props) = props {
        put_vbi(&mut body, props.len());
        body.extend_from_slice(props);
    }
    body.extend_from_slice(payload);
    packet(0x10, &body)
}

/// A client id of its own for each CONNECT: the rows run at once, and a CONNECT with the
/// client id of a connected client ends that connection (takeover).
fn client_id() -> Vec<u8> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    s(format!("bad-input-{n}").as_bytes())
}

/// An MQTT 5 CONNECT (clean start) with the token as the password.
fn connect5(token: &str) -> Vec<u8> {
    let payload = cat(&[&client_id(), &s(token.as_bytes())]);
    connect_raw("MQTT", 5, 0x42, Some(&[]), &payload)
}

/// An MQTT 5 CONNECT without password.
fn connect5_anonymous() -> Vec<u8> {
    connect_raw("MQTT", 5, 0x02, Some(&[]), &client_id())
}

/// An MQTT 3.1.1 CONNECT (clean session) with user name `u` and the token as password.
fn connect4(token: &str) -> Vec<u8> {
    let payload = cat(&[&client_id(), &s(b"u"), &s(token.as_bytes())]);
    connect_raw("MQTT", 4, 0xC2, None, &payload)
}

/// A PUBLISH: `first` carries type and flags; `id` for QoS > 0; MQTT 5 gets `props`.
fn publish(
    v5: bool,
    first: u8,
    topic: &[u8],
    id: Option<u16>,
    props: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut body = s(topic);
    if let Some(id) = id {
        body.extend(id.to_be_bytes());
    }
    if v5 {
        put_vbi(&mut body, props.len());
        body.extend_from_slice(props);
    }
    body.extend_from_slice(payload);
    packet(first, &body)
}

/// A SUBSCRIBE (packet id 1) of `filters` with their option bytes.
fn subscribe(v5: bool, first: u8, filters: &[(&[u8], u8)]) -> Vec<u8> {
    let mut body = vec![0, 1];
    if v5 {
        body.push(0);
    }
    for (filter, options) in filters {
        body.extend(s(filter));
        body.push(*options);
    }
    packet(first, &body)
}

// ---------------------------------------------------------------------------------------
// Running a row
// ---------------------------------------------------------------------------------------

/// How long a row waits for an answer that does not come.
const WAIT: Duration = Duration::from_secs(4);

fn run(input: &Input, needle: &str) -> Got {
    match input {
        Input::Http(h) => run_http(h, needle),
        Input::Raw(bytes) => run_raw(bytes),
        Input::Ws(w) => run_ws(w),
    }
}

/// Sends the request; reads the body until it ends, contains `needle`, or stays silent
/// for [`WAIT`] (a held stream).
fn run_http(h: &Http, needle: &str) -> Got {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout_read(WAIT)
        .build();
    let mut req = agent.request(h.method, &format!("{}{}", stack().app_url(), h.path));
    for (n, v) in &h.headers {
        req = req.set(n, v);
    }
    let res = match req.send_bytes(&h.body) {
        Ok(res) | Err(ureq::Error::Status(_, res)) => res,
        Err(e) => {
            return Got {
                code: "transport error".into(),
                text: e.to_string(),
            }
        }
    };
    let code = res.status().to_string();
    let mut reader = res.into_reader();
    let mut body = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
        if !needle.is_empty() && String::from_utf8_lossy(&body).contains(needle) {
            break;
        }
    }
    Got {
        code,
        text: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Writes `bytes` to the app's port and reads the answer: until its `Content-Length`
/// is complete, its last chunk, the server closing, or [`WAIT`] of silence.
fn run_raw(bytes: &[u8]) -> Got {
    let addr = format!("127.0.0.1:{}", stack().app_port());
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(bytes).expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|len| body.len() >= len) || body.ends_with("\r\n0\r\n\r\n") {
                break;
            }
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let code = answer.split(' ').nth(1).unwrap_or("no answer").to_owned();
    let text = answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    Got { code, text }
}

/// Opens the WebSocket, sends the frames, and reads until the server closes or stays
/// silent for [`WAIT`].
fn run_ws(w: &Ws) -> Got {
    let url = stack().app_url().replace("http://", "ws://") + "/mqtt";
    let mut req = url.into_client_request().expect("request");
    if let Some(p) = w.protocol {
        req.headers_mut()
            .insert("sec-websocket-protocol", p.parse().expect("value"));
    }
    for (n, v) in &w.headers {
        let name: tungstenite::http::HeaderName = n.parse().expect("name");
        req.headers_mut().insert(name, v.parse().expect("value"));
    }
    let stream = TcpStream::connect(format!("127.0.0.1:{}", stack().app_port())).expect("tcp");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut socket = match tungstenite::client(req, stream) {
        Ok((socket, _)) => socket,
        Err(HandshakeError::Failure(tungstenite::Error::Http(res))) => {
            let body = res.body().as_deref().unwrap_or_default();
            return Got {
                code: format!("HTTP {}", res.status().as_u16()),
                text: String::from_utf8_lossy(body).into_owned(),
            };
        }
        Err(e) => {
            return Got {
                code: "handshake failed".into(),
                text: e.to_string(),
            }
        }
    };
    let mut transcript = Transcript::default();
    if let Some(connect) = &w.connect {
        socket
            .send(Message::Binary(connect.clone()))
            .expect("send CONNECT");
        let mut first = Transcript::default();
        read_until_packet(&mut socket, w.v5, &mut first);
        if first.codes.first().map(String::as_str) != Some("CONNACK 0x00") {
            return first.got("setup CONNECT refused: ");
        }
    }
    for frame in &w.frames {
        let sent = match frame {
            Frame::Bin(bytes) => socket.send(Message::Binary(bytes.clone())),
            Frame::Text(text) => socket.send(Message::Text((*text).to_owned())),
            Frame::Close => socket.close(None),
        };
        if sent.is_err() {
            break;
        }
    }
    loop {
        match socket.read() {
            Ok(Message::Binary(bytes)) => transcript.packets(&bytes, w.v5),
            Ok(Message::Close(frame)) => {
                transcript.codes.push(match &frame {
                    Some(f) => format!("close {}", u16::from(f.code)),
                    None => "close".into(),
                });
                if let Some(f) = frame.filter(|f| !f.reason.is_empty()) {
                    transcript.texts.push(f.reason.into_owned());
                }
                break;
            }
            Ok(Message::Text(text)) => transcript.codes.push(format!("text {text:?}")),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                transcript.codes.push("silent".into());
                break;
            }
            Err(e) => {
                transcript.codes.push(format!("ended ({e})"));
                break;
            }
        }
    }
    transcript.got("")
}

/// Reads frames until an MQTT packet arrives (or the connection ends).
fn read_until_packet<S: Read + Write>(
    socket: &mut tungstenite::WebSocket<S>,
    v5: bool,
    transcript: &mut Transcript,
) {
    loop {
        match socket.read() {
            Ok(Message::Binary(bytes)) => return transcript.packets(&bytes, v5),
            Ok(Message::Close(frame)) => {
                let code = frame.map_or(0, |f| u16::from(f.code));
                return transcript.codes.push(format!("close {code}"));
            }
            Ok(_) => {}
            Err(e) => return transcript.codes.push(format!("ended ({e})")),
        }
    }
}

/// What came back on a WebSocket.
#[derive(Default)]
struct Transcript {
    codes: Vec<String>,
    texts: Vec<String>,
}

impl Transcript {
    fn got(self, prefix: &str) -> Got {
        Got {
            code: format!("{prefix}{}", self.codes.join(" + ")),
            text: self.texts.join(" | "),
        }
    }

    /// Names each MQTT packet in `bytes` by type and reason code(s), and keeps its
    /// Reason String.
    fn packets(&mut self, mut bytes: &[u8], v5: bool) {
        while let Some((&first, rest)) = bytes.split_first() {
            let Some((len, n)) = vbi(rest) else {
                return self.codes.push(format!("garbage {bytes:02x?}"));
            };
            let end = (n + len).min(rest.len());
            let body = &rest[n..end];
            bytes = &rest[end..];
            let byte = |i: usize| body.get(i).copied().unwrap_or(0);
            let (name, codes, props) = match first >> 4 {
                2 => ("CONNACK", vec![byte(1)], body.get(2..)),
                4..=7 => {
                    let name =
                        ["PUBACK", "PUBREC", "PUBREL", "PUBCOMP"][usize::from(first >> 4) - 4];
                    (name, vec![byte(2)], body.get(3..))
                }
                9 | 11 if v5 => {
                    let props_len = vbi(body.get(2..).unwrap_or_default()).unwrap_or((0, 1));
                    let codes_at = 2 + props_len.1 + props_len.0;
                    let name = if first >> 4 == 9 {
                        "SUBACK"
                    } else {
                        "UNSUBACK"
                    };
                    (
                        name,
                        body.get(codes_at..).unwrap_or_default().to_vec(),
                        body.get(2..),
                    )
                }
                9 => ("SUBACK", body.get(2..).unwrap_or_default().to_vec(), None),
                13 => continue,
                14 => ("DISCONNECT", vec![byte(0)], body.get(1..)),
                3 => {
                    self.codes.push("PUBLISH".into());
                    continue;
                }
                t => {
                    self.codes.push(format!("packet type {t}"));
                    continue;
                }
            };
            let codes: Vec<String> = codes.iter().map(|c| format!("{c:#04x}")).collect();
            self.codes.push(format!("{name} {}", codes.join(",")));
            if let Some(text) = props.filter(|_| v5).and_then(reason_string) {
                self.texts.push(text);
            }
        }
    }
}

/// A Variable Byte Integer: its value and length.
fn vbi(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, b) in bytes.iter().take(4).enumerate() {
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The Reason String (0x1F) in an MQTT 5 property section (length first).
fn reason_string(section: &[u8]) -> Option<String> {
    let (len, n) = vbi(section)?;
    let mut props = section.get(n..n + len)?;
    let u16_at = |b: &[u8], i: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
        ])))
    };
    while let Some((&id, rest)) = props.split_first() {
        let skip = match id {
            0x1F => {
                let l = u16_at(rest, 0)?;
                return String::from_utf8(rest.get(2..2 + l)?.to_vec()).ok();
            }
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => 1,
            0x13 | 0x21 | 0x22 | 0x23 => 2,
            0x02 | 0x11 | 0x18 | 0x27 => 4,
            0x0B => vbi(rest)?.1,
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C => 2 + u16_at(rest, 0)?,
            0x26 => {
                let first = 2 + u16_at(rest, 0)?;
                first + 2 + u16_at(rest, first)?
            }
            _ => return None,
        };
        props = rest.get(skip..)?;
    }
    None
}

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

/// What the rows need from the stack: keys, a topic and its token, a retained message.
struct Fixture {
    /// A topic the good token reads and writes.
    topic: String,
    good: String,
    /// A topic with a retained message (`kept`), and a token for it.
    kept_topic: String,
    kept_token: String,
    /// A registered ES256 key's id.
    es_kid: String,
    /// Another HS256 key (made through the admin API).
    hs_kid: String,
}

fn admin_json(body: &[u8]) -> Value {
    let r = send("POST", "/admin/keys", &[("Fastly-Key", ADMIN_TOKEN)], body);
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body).expect("json")
}

impl Fixture {
    fn new() -> Self {
        let topic = unique("corpus");
        let kept_topic = unique("kept");
        let kept_token = dev(&claims(&kept_topic));
        let r = send(
            "POST",
            &format!("/events?topic={}&retain=true", enc(&kept_topic)),
            &[("Authorization", &bearer(&kept_token))],
            b"kept-message",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let es = admin_json(
            json!({"kind": "es256", "public": ES256_PUBLIC})
                .to_string()
                .as_bytes(),
        );
        let hs = admin_json(b"");
        Fixture {
            good: dev(&claims(&topic)),
            topic,
            kept_topic,
            kept_token,
            es_kid: es["id"].as_str().expect("id").to_owned(),
            hs_kid: hs["id"].as_str().expect("id").to_owned(),
        }
    }

    /// Tokens that must not verify: name, token, expected substring of the reason. Each
    /// would grant `self.topic` if it verified.
    fn bad_tokens(&self) -> Vec<(&'static str, String, &'static str)> {
        let t = self.topic.as_str();
        let good = self.good.as_str();
        let es_private = EncodingKey::from_ec_pem(ES256_PRIVATE.as_bytes()).expect("key");
        let es_other = EncodingKey::from_ec_pem(ES256_OTHER_PRIVATE.as_bytes()).expect("key");
        let (head_and_claims, signature) = good.rsplit_once('.').expect("jwt");
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID});
        let other_claims = claims_with(t, json!({"x-fastly-write": [t, "elsewhere"]}));
        vec![
            ("garbage", "not-a-token".into(), "malformed JWT"),
            (
                "truncated: no signature part",
                head_and_claims.to_owned(),
                "malformed JWT",
            ),
            (
                "truncated signature",
                good[..good.len() - 11].to_owned(),
                "signature does not verify",
            ),
            (
                "forged: signed with another secret",
                hs256(DEV_KEY_ID, "guessed-secret", &claims(t)),
                "signature does not verify",
            ),
            (
                "forged: claims changed, signature kept",
                assembled(&header, &other_claims, signature),
                "signature does not verify",
            ),
            (
                "expired",
                dev(&claims_with(t, json!({"exp": now() - 120}))),
                "expired",
            ),
            (
                "not yet valid (nbf)",
                dev(&claims_with(t, json!({"nbf": now() + 600}))),
                "not valid yet",
            ),
            (
                "no exp",
                dev(&claims_with(t, json!({"exp": null}))),
                "no exp claim",
            ),
            (
                "alg none",
                assembled(&json!({"alg": "none", "kid": DEV_KEY_ID}), &claims(t), ""),
                "only verifies HS256",
            ),
            (
                "HS384 with the right secret",
                signed(
                    Algorithm::HS384,
                    Some(DEV_KEY_ID),
                    &EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes()),
                    &claims(t),
                ),
                "only verifies HS256",
            ),
            (
                "HS256 for an ES256 key, its public PEM as the secret",
                hs256(&self.es_kid, ES256_PUBLIC, &claims(t)),
                "only verifies ES256",
            ),
            (
                "ES256 for an HS256 key",
                signed(Algorithm::ES256, Some(DEV_KEY_ID), &es_private, &claims(t)),
                "only verifies HS256",
            ),
            (
                "ES256 signed by another private key",
                signed(Algorithm::ES256, Some(&self.es_kid), &es_other, &claims(t)),
                "signature does not verify",
            ),
            (
                "wrong kid: another existing key's id",
                hs256(&self.hs_kid, DEV_KEY_SECRET, &claims(t)),
                "signature does not verify",
            ),
            (
                "unknown kid",
                hs256("no-such-key", DEV_KEY_SECRET, &claims(t)),
                "unknown signing key",
            ),
            (
                "malformed kid",
                hs256("../../keys/dev", DEV_KEY_SECRET, &claims(t)),
                "unknown signing key",
            ),
            (
                "no kid",
                signed(
                    Algorithm::HS256,
                    None,
                    &EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes()),
                    &claims(t),
                ),
                "no `kid`",
            ),
            (
                "kid is a number",
                assembled(&json!({"alg": "HS256", "kid": 7}), &claims(t), "x"),
                "`kid`",
            ),
            (
                "x-fastly-read is a string",
                dev(&claims_with(t, json!({"x-fastly-read": t}))),
                "`x-fastly-read`",
            ),
            (
                "x-fastly-write is a string",
                dev(&claims_with(t, json!({"x-fastly-write": t}))),
                "`x-fastly-write`",
            ),
            (
                "x-fastly-write holds a number",
                dev(&claims_with(t, json!({"x-fastly-write": [t, 7]}))),
                "`x-fastly-write`",
            ),
            (
                "exp is a string",
                dev(&claims_with(t, json!({"exp": (now() + 3600).to_string()}))),
                "`exp`",
            ),
            (
                "nbf is a string",
                dev(&claims_with(t, json!({"nbf": "0"}))),
                "`nbf`",
            ),
            ("claims are an array", dev(&json!([t])), "JSON object"),
            (
                "exp is a float",
                dev(&claims_with(t, json!({"exp": 1.9e9}))),
                "`exp`",
            ),
            (
                "exp is 0",
                dev(&claims_with(t, json!({"exp": 0}))),
                "expired",
            ),
            (
                "exp is negative",
                dev(&claims_with(t, json!({"exp": -1}))),
                "`exp`",
            ),
            (
                "exp twice (duplicate JSON keys), the last one valid",
                raw_dev(&format!(
                    r#"{{"x-fastly-read":["{t}"],"x-fastly-write":["{t}"],"exp":{},"exp":{}}}"#,
                    now() - 3600,
                    now() + 3600
                )),
                "duplicate field `exp`",
            ),
            (
                "x-fastly-write twice (duplicate JSON keys)",
                raw_dev(&format!(
                    r#"{{"x-fastly-write":[],"x-fastly-write":["{t}"],"exp":{}}}"#,
                    now() + 3600
                )),
                "duplicate field `x-fastly-write`",
            ),
            (
                "nbf past the leeway (61 s ahead)",
                dev(&claims_with(t, json!({"nbf": now() + 62}))),
                "not valid yet",
            ),
        ]
    }
}

fn publish_rows(fx: &Fixture) -> Table {
    let mut table = Table::new(Area::Publish);
    let t = enc(&fx.topic);
    let path = format!("/events?topic={t}");
    let auth = bearer(&fx.good);
    let good = [("Authorization", auth.as_str())];
    for (name, token, text) in fx.bad_tokens() {
        let h = bearer(&token);
        table.row(
            &format!("token: {name}"),
            http("POST", &path, &[("Authorization", &h)], b"x"),
            "401",
            text,
        );
    }
    table.row(
        "no token",
        http("POST", &path, &[], b"x"),
        "401",
        "missing token",
    );
    table.row(
        "Authorization: Basic",
        http(
            "POST",
            &path,
            &[("Authorization", "Basic dXNlcjpwdw==")],
            b"x",
        ),
        "401",
        "must be `Bearer <token>`",
    );
    table.row(
        "Authorization: Bearer with nothing after it",
        http("POST", &path, &[("Authorization", "Bearer ")], b"x"),
        "401",
        "must be `Bearer <token>`",
    );
    table.row(
        "token without write access to the topic",
        http(
            "POST",
            &path,
            &[(
                "Authorization",
                &bearer(&dev(
                    &json!({"x-fastly-read": [fx.topic], "exp": now() + 60}),
                )),
            )],
            b"x",
        ),
        "403",
        "does not grant write access",
    );
    table.row(
        "body one byte over max-message-bytes",
        http("POST", &path, &good, &vec![b'x'; 32_513]),
        "413",
        "larger than 32512 bytes",
    );
    table.row(
        "body over the adapter's cap",
        http("POST", &path, &good, &vec![b'x'; 1_200_000]),
        "413",
        "1114112",
    );
    let topics = |q: &str| format!("/events?{q}");
    let cases: [(&str, String, &str); 13] = [
        ("no topic", topics(""), "missing `topic`"),
        ("empty topic", topics("topic="), "must not be empty"),
        (
            "topic of 257 bytes",
            topics(&format!("topic={}", "x".repeat(257))),
            "257 bytes long",
        ),
        (
            "topic of 129 two-byte characters (258 bytes)",
            topics(&format!("topic={}", "%C3%A9".repeat(129))),
            "258 bytes long",
        ),
        (
            "10 topics (max-topics is 9)",
            topics(
                &(0..10)
                    .map(|i| format!("topic={t}{i}"))
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
            "too many topics",
        ),
        ("topic with LF", topics("topic=a%0Ab"), "control characters"),
        (
            "topic with NUL",
            topics("topic=a%00b"),
            "control characters",
        ),
        (
            "topic with DEL",
            topics("topic=a%7Fb"),
            "control characters",
        ),
        (
            "topic with C1 control U+0085",
            topics("topic=a%C2%85b"),
            "control characters",
        ),
        (
            "topic %FF (not UTF-8)",
            topics("topic=%FF"),
            "not valid UTF-8",
        ),
        (
            "topic with an overlong encoding %C0%AF",
            topics("topic=%C0%AF"),
            "not valid UTF-8",
        ),
        (
            "topic with a surrogate %ED%A0%80",
            topics("topic=%ED%A0%80"),
            "not valid UTF-8",
        ),
        (
            "topic with a truncated sequence %E2%82",
            topics("topic=a%E2%82"),
            "not valid UTF-8",
        ),
    ];
    for (name, path, text) in cases {
        table.row(name, http("POST", &path, &good, b"x"), "400", text);
    }
    table.row(
        "auth parameter %FF (no Authorization header)",
        http("POST", &format!("{path}&auth=%FF"), &[], b"x"),
        "400",
        "`auth` is not valid UTF-8",
    );
    let options: [(&str, &str, &str); 8] = [
        (
            "retain=yes",
            "retain=yes",
            "`retain` must be `true` or `false`",
        ),
        (
            "retain=TRUE",
            "retain=TRUE",
            "`retain` must be `true` or `false`",
        ),
        (
            "ttl=0",
            "retain=true&ttl=0",
            "`ttl` must be a number of seconds",
        ),
        (
            "ttl=-5",
            "retain=true&ttl=-5",
            "`ttl` must be a number of seconds",
        ),
        (
            "ttl=1.5",
            "retain=true&ttl=1.5",
            "`ttl` must be a number of seconds",
        ),
        (
            "ttl=4294967296",
            "retain=true&ttl=4294967296",
            "`ttl` must be a number of seconds",
        ),
        (
            "ttl=%2B5 (+5)",
            "retain=true&ttl=%2B5",
            "`ttl` must be a number of seconds",
        ),
        ("ttl without retain", "ttl=60", "add `retain=true`"),
    ];
    for (name, query, text) in options {
        table.row(
            name,
            http("POST", &format!("{path}&{query}"), &good, b"x"),
            "400",
            text,
        );
    }
    table
}

fn subscribe_rows(fx: &Fixture) -> Table {
    let mut table = Table::new(Area::Subscribe);
    let t = enc(&fx.topic);
    let path = format!("/events?topic={t}");
    let with = |token: &str| format!("{path}&auth={}", enc(token));
    let bad = fx.bad_tokens();
    // A few of the token rows again, through the subscribe path (the second, signed pass).
    for (name, token, text) in bad.iter().filter(|(name, ..)| {
        [
            "forged: signed with another secret",
            "expired",
            "alg none",
            "unknown kid",
            "x-fastly-read is a string",
            "exp is a string",
            "no exp",
            "not yet valid (nbf)",
        ]
        .contains(name)
    }) {
        table.row(
            &format!("token: {name}"),
            http("GET", &with(token), &[], b""),
            "401",
            text,
        );
    }
    table.row(
        "no token",
        http("GET", &path, &[], b""),
        "401",
        "missing token",
    );
    // Topics are compared byte for byte: no Unicode normalisation, no empty-level
    // folding, and `$` topics only under a `$` grant.
    let nfc = format!("{}-caf\u{e9}", fx.topic);
    let nfd = format!("{}-cafe\u{301}", fx.topic);
    let cases: [(&str, Vec<String>, String); 5] = [
        (
            "a Unicode normalisation twin (NFD of an NFC grant)",
            vec![nfc],
            nfd,
        ),
        (
            "an empty level: `a//+` under a grant of `a/+`",
            vec![format!("{}/+", fx.topic)],
            format!("{}//+", fx.topic),
        ),
        (
            "`#` under a grant of `+/+` (fewer levels only)",
            vec!["+/+".into()],
            "#".into(),
        ),
        (
            "`$SYS/x` under a grant of `#`",
            vec!["#".into()],
            "$SYS/x".into(),
        ),
        (
            "`$SYS/#` under a grant of `+/#`",
            vec!["+/#".into()],
            "$SYS/#".into(),
        ),
    ];
    for (name, grant, topic) in cases {
        let token = dev(&json!({"x-fastly-read": grant, "exp": now() + 60}));
        let uri = format!("/events?topic={}&auth={}", enc(&topic), enc(&token));
        table.row(
            &format!("topic: {name}"),
            http("GET", &uri, &[], b""),
            "403",
            "does not grant read access",
        );
    }
    table.row(
        "EventSource (Accept: text/event-stream) with a forged token: 200 + stream-error",
        http(
            "GET",
            &with(&hs256(DEV_KEY_ID, "guessed", &claims(&fx.topic))),
            &[("Accept", "text/event-stream")],
            b"",
        ),
        "200",
        r#""condition":"unauthorized""#,
    );
    table.row(
        "token without read access",
        http(
            "GET",
            &with(&dev(
                &json!({"x-fastly-write": [fx.topic], "exp": now() + 60}),
            )),
            &[],
            b"",
        ),
        "403",
        "does not grant read access",
    );
    // A `grant` is the credential of the links Fanout requests on its own (signed by
    // Fanout, whose errors are answered 200 so that Fanout writes the stream-error to the
    // stream); a link request without a Grip-Sig is a client's: 403, never handed off.
    table.row(
        "forged grant in a link path instead of a token, unsigned: 403",
        http(
            "GET",
            &format!("/events/link/9999999999.9999999999.dev.AAAA?topic={t}"),
            &[],
            b"",
        ),
        "403",
        "this link is requested by Fanout only",
    );
    table.row(
        "a grant in the query is no credential",
        http(
            "GET",
            &format!("{path}&grant=9999999999.dev.AAAA"),
            &[],
            b"",
        ),
        "401",
        "missing token",
    );
    let good = with(&fx.good);
    let cases: [(&str, String, &str); 6] = [
        (
            "10 topics",
            format!(
                "{good}&{}",
                (0..9)
                    .map(|i| format!("topic={t}{i}"))
                    .collect::<Vec<_>>()
                    .join("&")
            ),
            "too many topics",
        ),
        (
            "topic of 300 bytes",
            format!("/events?topic={}&auth={}", "y".repeat(300), enc(&fx.good)),
            "300 bytes long",
        ),
        (
            "topic with CR",
            format!("/events?topic=a%0Db&auth={}", enc(&fx.good)),
            "control characters",
        ),
        (
            "topic %C3%28 (not UTF-8)",
            format!("/events?topic=%C3%28&auth={}", enc(&fx.good)),
            "not valid UTF-8",
        ),
        (
            "durable=yes",
            format!("{good}&durable=yes"),
            "`durable` must be `true` or `false`",
        ),
        (
            "durable=1",
            format!("{good}&durable=1"),
            "`durable` must be `true` or `false`",
        ),
    ];
    for (name, path, text) in cases {
        table.row(name, http("GET", &path, &[], b""), "400", text);
    }
    let durable = format!("{good}&durable=true");
    let tag = "0123456789abcdef";
    let version = "00006920ab41-000000000007";
    let ids: [(&str, String, &str); 7] = [
        ("Last-Event-ID without `:`", "garbage".into(), "has no `:`"),
        (
            "Last-Event-ID with a short tag",
            format!("abc:{version}"),
            "16-hex-digit topic tag",
        ),
        (
            "Last-Event-ID with upper-case hex",
            format!("{}:{version}", tag.to_uppercase()),
            "16-hex-digit topic tag",
        ),
        (
            "Last-Event-ID with a bad version",
            format!("{tag}:7"),
            "invalid last event id",
        ),
        (
            "Last-Event-ID with a tag twice",
            format!("{tag}:{version},{tag}:{version}"),
            "appears twice",
        ),
        (
            "Last-Event-ID with a trailing comma",
            format!("{tag}:{version},"),
            "has no `:`",
        ),
        (
            "Last-Event-ID with 101 entries",
            (0..101)
                .map(|i| format!("{i:016x}:{version}"))
                .collect::<Vec<_>>()
                .join(","),
            "more than 100 entries",
        ),
    ];
    for (name, id, text) in ids {
        table.row(
            name,
            http("GET", &durable, &[("Last-Event-ID", &id)], b""),
            "400",
            text,
        );
    }
    table.row(
        "lastEventId query parameter malformed",
        http("GET", &format!("{durable}&lastEventId=nope"), &[], b""),
        "400",
        "invalid last event id",
    );
    // A header value with bytes above 0x7F (Latin-1 "été"): ureq would not send it.
    let mut raw =
        format!("GET {durable} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nLast-Event-ID: ")
            .into_bytes();
    raw.extend([0xE9, b't', 0xE9]);
    raw.extend(b"\r\n\r\n");
    table.row(
        "Last-Event-ID with a Latin-1 byte",
        Input::Raw(raw),
        "400",
        "not ASCII",
    );
    // Grip-Last is the proxy's to send: a client's is dropped, so the retained message
    // still arrives (were it trusted, the stream would skip it and not even say
    // stream-open).
    let kept = format!(
        "/events?topic={}&durable=true&auth={}",
        enc(&fx.kept_topic),
        enc(&fx.kept_token)
    );
    let grip_last = format!("r#{}; last-id=ffffffffffff-ffffffffffff", fx.kept_topic);
    table.row(
        "client-sent Grip-Last claiming everything was seen: ignored",
        http("GET", &kept, &[("Grip-Last", &grip_last)], b""),
        "200",
        "data: kept-message",
    );
    table.row(
        "client-sent Grip-Last and Meta-User on a plain stream: ignored",
        http(
            "GET",
            &kept.replace("&durable=true", ""),
            &[("Grip-Last", &grip_last), ("Meta-User", "someone-else")],
            b"",
        ),
        "200",
        "event: stream-open",
    );
    table
}

fn grip_rows(fx: &Fixture) -> Table {
    let mut table = Table::new(Area::GripSig);
    let key = stack().grip_key().to_owned();
    let path = format!("/events?topic={}", enc(&fx.topic));
    let exp = now() + 60;
    let sigs: [(&str, String, &str); 7] = [
        (
            "signed with another key",
            grip_sig("not-the-key", &json!({"iss": "pushpin", "exp": exp})),
            "does not verify",
        ),
        (
            "no exp",
            grip_sig(&key, &json!({"iss": "pushpin"})),
            "no exp claim",
        ),
        (
            "wrong issuer",
            grip_sig(&key, &json!({"iss": "fastly:someone", "exp": exp})),
            "issuer is not",
        ),
        (
            "expired",
            grip_sig(&key, &json!({"iss": "pushpin", "exp": now() - 3600})),
            "expired",
        ),
        (
            "alg none",
            assembled(
                &json!({"alg": "none"}),
                &json!({"iss": "pushpin", "exp": exp}),
                "",
            ),
            "only verifies HS256",
        ),
        (
            "ES256 (wrong algorithm)",
            signed(
                Algorithm::ES256,
                None,
                &EncodingKey::from_ec_pem(ES256_PRIVATE.as_bytes()).expect("key"),
                &json!({"iss": "pushpin", "exp": exp}),
            ),
            "only verifies HS256",
        ),
        ("not a JWT", "x.y.z".into(), "Grip-Sig rejected"),
    ];
    for (name, sig, text) in sigs {
        table.row(
            &format!("subscribe, Grip-Sig {name}"),
            http("GET", &path, &[("Grip-Sig", &sig)], b""),
            "403",
            text,
        );
    }
    let forged = grip_sig("not-the-key", &json!({"iss": "pushpin", "exp": exp}));
    table.row(
        "publish with a forged Grip-Sig",
        http(
            "POST",
            &format!("{path}&auth={}", enc(&fx.good)),
            &[("Grip-Sig", &forged)],
            b"x",
        ),
        "403",
        "Grip-Sig rejected",
    );
    let events = b"OPEN\r\n";
    table.row(
        "WebSocket-over-HTTP POST without Grip-Sig",
        http(
            "POST",
            "/mqtt",
            &[("Content-Type", "application/websocket-events")],
            events,
        ),
        "403",
        "must come from Fanout",
    );
    table.row(
        "WebSocket-over-HTTP POST with a forged Grip-Sig and forged Meta-*",
        http(
            "POST",
            "/mqtt",
            &[
                ("Content-Type", "application/websocket-events"),
                ("Grip-Sig", &forged),
                ("Meta-Mqtt-V", "5"),
                ("Meta-Mqtt-Token", &fx.good),
            ],
            events,
        ),
        "403",
        "does not verify",
    );
    table
}

/// MQTT rows common to both versions are built by `mqtt_rows(true)` and
/// `mqtt_rows(false)`.
fn mqtt_rows(fx: &Fixture, v5: bool) -> Table {
    let mut table = Table::new(if v5 { Area::Mqtt5 } else { Area::Mqtt311 });
    let connect = |token: &str| if v5 { connect5(token) } else { connect4(token) };
    // A CONNECT of its own per row: rows sharing a client id would take each other over.
    let good = || Some(connect(&fx.good));
    let t = fx.topic.as_bytes();
    // Refusals of a token: MQTT 5 CONNACK 0x87 with the reason, 3.1.1 CONNACK 0x05.
    let refused = if v5 {
        "CONNACK 0x87 + close 1008"
    } else {
        "CONNACK 0x05 + close 1008"
    };
    let tokens = fx.bad_tokens();
    let picked: &[&str] = if v5 {
        &[
            "garbage",
            "forged: signed with another secret",
            "expired",
            "not yet valid (nbf)",
            "no exp",
            "alg none",
            "HS256 for an ES256 key, its public PEM as the secret",
            "unknown kid",
            "x-fastly-read is a string",
            "exp is a string",
        ]
    } else {
        &["expired", "alg none", "unknown kid"]
    };
    for (name, token, text) in tokens.iter().filter(|(n, ..)| picked.contains(n)) {
        let text = if v5 { *text } else { "" };
        table.row(
            &format!("CONNECT, token: {name}"),
            ws(v5, None, vec![connect(token)]),
            refused,
            text,
        );
    }
    if v5 {
        table.row(
            "CONNECT without password",
            ws(v5, None, vec![connect5_anonymous()]),
            "CONNACK 0x87 + close 1008",
            "missing token",
        );
    }
    table.row(
        "CONNECT with a 9000-byte password",
        ws(v5, None, vec![connect(&"x".repeat(9000))]),
        if v5 {
            "CONNACK 0x86 + close 1008"
        } else {
            "CONNACK 0x04 + close 1008"
        },
        if v5 { "at most 8192" } else { "" },
    );
    let level = if v5 { 5 } else { 4 };
    let props: Option<&[u8]> = if v5 { Some(&[]) } else { None };
    let cid = client_id();
    // A refused CONNECT that could not be read: MQTT 5 CONNACK 0x81 Malformed Packet;
    // 3.1.1 has no return code for it: the connection just closes.
    let malformed = if v5 {
        "CONNACK 0x81 + close 1002"
    } else {
        "close 1002"
    };
    let text = |t: &'static str| if v5 { t } else { "" };
    table.row(
        "CONNECT with the reserved flag set",
        ws(
            v5,
            None,
            vec![connect_raw("MQTT", level, 0x03, props, &cid)],
        ),
        malformed,
        text("reserved CONNECT flag"),
    );
    table.row(
        "CONNECT with fixed-header flags 0b0001",
        ws(
            v5,
            None,
            vec![{
                let mut p = connect(&fx.good);
                p[0] = 0x11;
                p
            }],
        ),
        malformed,
        text("MQTT-2.1.3-1"),
    );
    table.row(
        "CONNECT truncated inside the password (Remaining Length agrees)",
        ws(
            v5,
            None,
            vec![{
                let full = connect(&fx.good);
                let (_, n) = vbi(&full[1..]).expect("vbi");
                packet(0x10, &full[1 + n..full.len() - 20])
            }],
        ),
        malformed,
        text("ends inside"),
    );
    table.row(
        "CONNECT with Will QoS 3",
        ws(
            v5,
            None,
            vec![connect_raw("MQTT", level, 0x1E, props, &cid)],
        ),
        malformed,
        text("Will QoS 3"),
    );
    table.row(
        "CONNECT with Will Retain but no Will",
        ws(
            v5,
            None,
            vec![connect_raw("MQTT", level, 0x22, props, &cid)],
        ),
        malformed,
        text("Will Retain must be 0"),
    );
    table.row(
        "first packet is PINGREQ, not CONNECT",
        ws(v5, None, vec![vec![0xC0, 0x00]]),
        "close 1002",
        "",
    );
    table.row(
        "first packet has reserved type 0",
        ws(v5, None, vec![vec![0x00, 0x00]]),
        "close 1002",
        "",
    );
    table.row(
        "a second CONNECT",
        ws(v5, good(), vec![connect(&fx.good)]),
        if v5 {
            "DISCONNECT 0x82 + close 1008"
        } else {
            "close 1008"
        },
        text("second CONNECT"),
    );
    // After a good CONNECT.
    let qos1 = 0x32;
    let pubq = |first: u8, topic: &[u8], id: Option<u16>| publish(v5, first, topic, id, &[], b"x");
    let disconnect = |code: &str| {
        if v5 {
            format!("DISCONNECT {code} + close 1008")
        } else {
            "close 1008".to_owned()
        }
    };
    let rows: Vec<(&str, Vec<u8>, String, &str)> = vec![
        (
            "PUBLISH to a wildcard topic a/+",
            pubq(0x30, b"a/+", None),
            disconnect("0x82"),
            "wildcard",
        ),
        (
            "PUBLISH to topic #",
            pubq(0x30, b"#", None),
            disconnect("0x82"),
            "wildcard",
        ),
        (
            "PUBLISH QoS 3",
            pubq(0x36, t, Some(1)),
            disconnect("0x81"),
            "QoS 3",
        ),
        (
            "PUBLISH QoS 0 with DUP",
            pubq(0x38, t, None),
            disconnect("0x82"),
            "DUP",
        ),
        (
            "PUBLISH QoS 1 with packet id 0",
            pubq(qos1, t, Some(0)),
            disconnect("0x82"),
            "non-zero packet identifier",
        ),
        (
            "PUBLISH to a 257-byte topic",
            pubq(0x30, &[b'z'; 257], None),
            disconnect("0x90"),
            "257 bytes",
        ),
        (
            "PUBLISH to a topic with a control character",
            pubq(0x30, b"a\x07b", None),
            disconnect("0x90"),
            "control characters",
        ),
        (
            "PUBLISH to a topic that is not UTF-8",
            pubq(0x30, b"a\xffb", None),
            disconnect("0x81"),
            "UTF-8",
        ),
        (
            "PUBLISH to an empty topic",
            pubq(0x30, b"", None),
            disconnect("0x82"),
            "empty",
        ),
        (
            "PUBLISH payload over max-message-bytes",
            publish(v5, 0x30, t, None, &[], &vec![b'p'; 32_600]),
            disconnect("0x95"),
            "larger than 32512",
        ),
        (
            "packet over the Maximum Packet Size (Remaining Length 40000)",
            {
                let mut p = vec![0x30];
                put_vbi(&mut p, 40_000);
                p.extend(s(t));
                p
            },
            disconnect("0x95"),
            "packet too large",
        ),
        (
            "Remaining Length of five bytes",
            vec![0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            disconnect("0x81"),
            "at most 4 bytes",
        ),
        (
            "Remaining Length not minimal (0x80 0x00)",
            vec![0xC0, 0x80, 0x00],
            disconnect("0x81"),
            "minimum number of bytes",
        ),
        (
            "PINGREQ with flags 0b0001",
            vec![0xC1, 0x00],
            disconnect("0x81"),
            "MQTT-2.1.3-1",
        ),
        (
            "packet of reserved type 0",
            vec![0x00, 0x00],
            disconnect("0x81"),
            "reserved",
        ),
        (
            "SUBSCRIBE with flags 0b0000",
            subscribe(v5, 0x80, &[(t, 0)]),
            disconnect("0x81"),
            "MQTT-2.1.3-1",
        ),
        (
            "SUBSCRIBE with no topic filter",
            subscribe(v5, 0x82, &[]),
            disconnect("0x82"),
            "at least one topic filter",
        ),
        (
            "SUBSCRIBE requesting QoS 3",
            subscribe(v5, 0x82, &[(t, 3)]),
            disconnect("0x82"),
            "QoS 3",
        ),
        (
            "SUBSCRIBE with reserved option bits",
            subscribe(v5, 0x82, &[(t, 0xC0)]),
            disconnect("0x81"),
            "reserved bits",
        ),
        (
            "a server-only packet (CONNACK) from the client",
            if v5 {
                vec![0x20, 0x03, 0x00, 0x00, 0x00]
            } else {
                vec![0x20, 0x02, 0x00, 0x00]
            },
            disconnect("0x82"),
            "may not send CONNACK",
        ),
        (
            "PUBREL with flags 0b0000",
            vec![0x60, 0x02, 0x00, 0x05],
            disconnect("0x81"),
            "MQTT-2.1.3-1",
        ),
    ];
    for (name, bytes, want, txt) in rows {
        table.row(name, ws(v5, good(), vec![bytes]), &want, text(txt));
    }
    // SUBSCRIBE refusals keep the connection: a reason code per filter.
    let failure = |code: &str| {
        if v5 {
            format!("SUBACK {code} + silent")
        } else {
            "SUBACK 0x80 + silent".to_owned()
        }
    };
    let subs: [(&str, &[u8], String); 6] = [
        (
            "SUBSCRIBE to a wildcard filter over wildcard-max-levels",
            b"a/b/c/d/e/f/#",
            failure("0xa2"),
        ),
        (
            "SUBSCRIBE to a malformed filter a/#/b",
            b"a/#/b",
            failure("0x8f"),
        ),
        (
            "SUBSCRIBE to a wildcard filter the claims do not cover",
            b"a/#",
            failure("0x87"),
        ),
        (
            "SUBSCRIBE to a shared subscription",
            b"$share/g/a",
            failure("0x9e"),
        ),
        (
            "SUBSCRIBE to a topic the token may not read",
            b"not-granted",
            failure("0x87"),
        ),
        (
            "SUBSCRIBE to a 257-byte filter",
            &[b'f'; 257],
            failure("0x8f"),
        ),
    ];
    for (name, filter, want) in subs {
        table.row(
            name,
            ws(v5, good(), vec![subscribe(v5, 0x82, &[(filter, 0)])]),
            &want,
            "",
        );
    }
    // QoS 2 is supported; its exchange has bad inputs of its own.
    table.row(
        "PUBREL for a packet identifier never received",
        ws(v5, good(), vec![vec![0x62, 0x02, 0x00, 0x05]]),
        if v5 {
            "PUBCOMP 0x92 + silent"
        } else {
            "PUBCOMP 0x00 + silent"
        },
        "",
    );
    table.row(
        "PUBLISH QoS 2 to a topic the token may not write",
        ws(
            v5,
            good(),
            vec![publish(v5, 0x34, b"not-granted", Some(9), &[], b"x")],
        ),
        if v5 {
            "PUBREC 0x87 + silent"
        } else {
            "close 1008"
        },
        text("may not publish"),
    );
    if v5 {
        table.row(
            "PUBLISH QoS 1 to a topic the token may not write",
            ws(
                v5,
                good(),
                vec![publish(true, 0x32, b"not-granted", Some(1), &[], b"x")],
            ),
            "PUBACK 0x87 + silent",
            "may not publish",
        );
        table.row(
            "PUBLISH with a Topic Alias",
            ws(
                v5,
                good(),
                vec![publish(true, 0x30, t, None, &[0x23, 0, 1], b"x")],
            ),
            "DISCONNECT 0x94 + close 1008",
            "topic aliases are not supported",
        );
        table.row(
            "CONNECT with an unknown property 0x7F",
            ws(
                v5,
                None,
                vec![connect_raw("MQTT", 5, 0x02, Some(&[0x7F, 0]), &cid)],
            ),
            "CONNACK 0x81 + close 1002",
            "unknown property",
        );
        table.row(
            "CONNECT with Receive Maximum twice",
            ws(
                v5,
                None,
                vec![connect_raw(
                    "MQTT",
                    5,
                    0x02,
                    Some(&[0x21, 0, 5, 0x21, 0, 5]),
                    &cid,
                )],
            ),
            "CONNACK 0x82 + close 1002",
            "more than once",
        );
        table.row(
            "AUTH packet",
            ws(v5, good(), vec![vec![0xF0, 0x00]]),
            "DISCONNECT 0x82 + close 1008",
            "enhanced authentication is not supported",
        );
        table.row(
            "protocol name MQTX, level 5",
            ws(
                v5,
                None,
                vec![connect_raw("MQTX", 5, 0x02, Some(&[]), &cid)],
            ),
            "CONNACK 0x84 + close 1002",
            "unsupported protocol",
        );
    } else {
        table.row(
            "PUBLISH QoS 1 to a topic the token may not write",
            ws(
                v5,
                good(),
                vec![publish(false, 0x32, b"not-granted", Some(1), &[], b"x")],
            ),
            "close 1008",
            "",
        );
        table.row(
            "CONNECT with an empty client id and Clean Session 0",
            ws(
                v5,
                None,
                vec![connect_raw(
                    "MQTT",
                    4,
                    0xC0,
                    None,
                    &cat(&[&s(b""), &s(b"u"), &s(fx.good.as_bytes())]),
                )],
            ),
            "CONNACK 0x02 + close 1002",
            "",
        );
        table.row(
            "CONNECT with a password but no user name",
            ws(
                v5,
                None,
                vec![connect_raw(
                    "MQTT",
                    4,
                    0x42,
                    None,
                    &cat(&[&cid, &s(fx.good.as_bytes())]),
                )],
            ),
            "close 1002",
            "",
        );
        table.row(
            "MQTT 3.1 (protocol MQIsdp, level 3)",
            ws(v5, None, vec![connect_raw("MQIsdp", 3, 0x02, None, &cid)]),
            "CONNACK 0x01 + close 1002",
            "",
        );
        table.row(
            "protocol level 6",
            ws(v5, None, vec![connect_raw("MQTT", 6, 0x02, None, &cid)]),
            "CONNACK 0x01 + close 1002",
            "",
        );
    }
    table
}

fn websocket_rows(fx: &Fixture) -> Table {
    let mut table = Table::new(Area::WebSocket);
    let handshake = |protocol: Option<&'static str>,
                     headers: Vec<(String, String)>,
                     connect: Option<Vec<u8>>,
                     frames: Vec<Frame>| {
        Input::Ws(Ws {
            v5: true,
            protocol,
            headers,
            connect,
            frames,
        })
    };
    // A refused handshake is read raw: the WebSocket client drops the answer's body.
    let upgrade = |protocol: &str| {
        Input::Raw(
            format!(
                "GET /mqtt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{protocol}\r\n"
            )
            .into_bytes(),
        )
    };
    table.row("no subprotocol", upgrade(""), "400", "`mqtt` subprotocol");
    table.row(
        "subprotocol mqttv3.1 only",
        upgrade("Sec-WebSocket-Protocol: mqttv3.1\r\n"),
        "400",
        "`mqtt` subprotocol",
    );
    table.row(
        "a text frame before CONNECT",
        handshake(Some("mqtt"), vec![], None, vec![Frame::Text("hello")]),
        "close 1003",
        "",
    );
    table.row(
        "a text frame after CONNECT",
        handshake(
            Some("mqtt"),
            vec![],
            Some(connect5(&fx.good)),
            vec![Frame::Text("{}")],
        ),
        "close 1003",
        "",
    );
    table.row(
        "half a CONNECT, then nothing: the broker waits for the rest",
        handshake(
            Some("mqtt"),
            vec![],
            None,
            vec![Frame::Bin(connect5(&fx.good)[..10].to_vec())],
        ),
        "silent",
        "",
    );
    table.row(
        "half a CONNECT, then a close",
        handshake(
            Some("mqtt"),
            vec![],
            None,
            vec![Frame::Bin(connect5(&fx.good)[..10].to_vec()), Frame::Close],
        ),
        "close 1000",
        "",
    );
    // Meta-* is connection state only the proxy may send: with a trusted `Meta-Mqtt-V` and
    // `Meta-Mqtt-Token`, a SUBSCRIBE without CONNECT would get a SUBACK.
    let meta = vec![
        ("Meta-Mqtt-V".to_owned(), "5".to_owned()),
        ("Meta-Mqtt-Token".to_owned(), fx.good.clone()),
        ("Meta-Mqtt-Ka".to_owned(), "0".to_owned()),
    ];
    table.row(
        "client-sent Meta-Mqtt-V and Meta-Mqtt-Token, then SUBSCRIBE without CONNECT: ignored",
        handshake(
            Some("mqtt"),
            meta,
            None,
            vec![Frame::Bin(subscribe(
                true,
                0x82,
                &[(fx.topic.as_bytes(), 0)],
            ))],
        ),
        "close 1002",
        "",
    );
    // Were it read, a corrupt `mqtt-v` would fail every request of the connection.
    table.row(
        "client-sent corrupt Meta-Mqtt-V, then a good CONNECT: ignored",
        handshake(
            Some("mqtt"),
            vec![
                ("Meta-Mqtt-V".to_owned(), "9".to_owned()),
                ("Grip-Last".to_owned(), "x; last-id=1".to_owned()),
            ],
            None,
            vec![Frame::Bin(connect5(&fx.good))],
        ),
        "CONNACK 0x00 + silent",
        "",
    );
    table
}

fn admin_rows() -> Table {
    let mut table = Table::new(Area::Admin);
    let admin = [("Fastly-Key", ADMIN_TOKEN)];
    let credentials: [(&str, Vec<(&str, &str)>); 5] = [
        ("no credentials", vec![]),
        (
            "wrong Fastly-Key",
            vec![("Fastly-Key", "not-the-admin-token")],
        ),
        ("empty Fastly-Key", vec![("Fastly-Key", "")]),
        (
            "the publish-token as Fastly-Key",
            vec![("Fastly-Key", "local-publish-token")],
        ),
        (
            "the admin token as a Bearer token",
            vec![("Authorization", "Bearer local-admin-token")],
        ),
    ];
    for (name, headers) in credentials {
        table.row(
            &format!("GET, {name}"),
            http("GET", "/admin/keys", &headers, b""),
            "401",
            "admin credentials",
        );
    }
    table.row(
        "POST with a wrong Fastly-Key",
        http(
            "POST",
            "/admin/keys",
            &[("Fastly-Key", "local-admin-tokeN")],
            b"",
        ),
        "401",
        "admin credentials",
    );
    let ec_jwk = json!({"kty": "EC", "crv": "P-256",
        "x": "CQJIrP-7R7s8-4GXbzr661RNmhh0_PK7HXzlUihNv7E",
        "y": "nuorcmYckwOP4GHyqkXUbLkBRO26BU8sM4AcvdNdysA"});
    let mut private_jwk = ec_jwk.clone();
    private_jwk["d"] = json!("n4jFyEb4az0x7scW7uhR17GFqyBwVUZG_r9_8ABlyp0");
    let mut off_curve = ec_jwk.clone();
    off_curve["y"] = json!(b64(&[1; 32]));
    let mut rs256 = ec_jwk.clone();
    rs256["alg"] = json!("RS256");
    let bodies: Vec<(&str, String, &str)> = vec![
        ("invalid JSON", "{".into(), "must be empty or a JSON object"),
        ("a JSON array", "[]".into(), "must be empty or a JSON object"),
        ("a JSON string", "\"es256\"".into(), "must be empty or a JSON object"),
        ("not UTF-8", "\u{fffd}".into(), "must be empty or a JSON object"),
        ("unknown kind", json!({"kind": "rsa"}).to_string(), "unknown key kind"),
        ("kind is a number", json!({"kind": 256}).to_string(), "`kind` must be a string"),
        ("no kind", json!({"public": ES256_PUBLIC}).to_string(), "give `kind`"),
        ("es256 without public", json!({"kind": "es256"}).to_string(), "needs `public`"),
        ("hs256 with a public key", json!({"kind": "hs256", "public": ES256_PUBLIC}).to_string(), "generated by the service"),
        ("a private key PEM", json!({"kind": "es256", "public": ES256_PRIVATE}).to_string(), "that is a private key"),
        ("an RSA public key PEM", json!({"kind": "es256", "public": RSA_PUBLIC}).to_string(), "public key rejected"),
        ("an ES256 PEM registered as eddsa", json!({"kind": "eddsa", "public": ES256_PUBLIC}).to_string(), "public key rejected"),
        ("a PEM that does not parse", json!({"kind": "es256", "public": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}).to_string(), "public key rejected"),
        ("public is a number", json!({"kind": "es256", "public": 5}).to_string(), "PEM string or a JWK object"),
        ("an RSA JWK", json!({"kty": "RSA", "n": b64(&[0xC8; 128]), "e": "AQAB"}).to_string(), "unsupported JWK"),
        ("a private EC JWK", private_jwk.to_string(), "holds a private key"),
        ("an EC JWK off the curve", off_curve.to_string(), "public key rejected"),
        ("an Ed25519 JWK of 31 bytes", json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&[3; 31])}).to_string(), "expected 32"),
        ("a JWK whose alg is RS256", rs256.to_string(), "JWK `alg`"),
        ("kind eddsa with an EC JWK", json!({"kind": "eddsa", "public": ec_jwk}).to_string(), "`kind` is"),
    ];
    for (name, body, text) in bodies {
        let body = if name == "not UTF-8" {
            vec![0xFF, 0xFE]
        } else {
            body.into_bytes()
        };
        table.row(
            &format!("POST, {name}"),
            http("POST", "/admin/keys", &admin, &body),
            "400",
            text,
        );
    }
    table.row(
        "POST, body over 16 KiB",
        http("POST", "/admin/keys", &admin, &vec![b' '; 16 * 1024 + 1]),
        "413",
        "16384",
    );
    let ids: [(&str, &str, &str, &str); 5] = [
        (
            "DELETE, id with a dot",
            "/admin/keys/bad.id",
            "400",
            "malformed",
        ),
        (
            "DELETE, id of 65 characters",
            "/admin/keys/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "400",
            "malformed",
        ),
        (
            "DELETE, id with an encoded slash",
            "/admin/keys/a%2Fb",
            "400",
            "malformed",
        ),
        (
            "DELETE, id with an encoded NUL",
            "/admin/keys/a%00b",
            "400",
            "malformed",
        ),
        (
            "DELETE, unknown id",
            "/admin/keys/no-such-key-here",
            "404",
            "not found",
        ),
    ];
    for (name, path, want, text) in ids {
        table.row(name, http("DELETE", path, &admin, b""), want, text);
    }
    table.row(
        "PUT /admin/keys",
        http("PUT", "/admin/keys", &admin, b""),
        "405",
        "method not allowed",
    );
    table
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

/// Runs every row on `threads` threads; the rows whose outcome differs, described.
fn run_rows(rows: &[Row], threads: usize) -> Vec<String> {
    let next = Mutex::new(rows.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let Some(row) = next.lock().map(|mut it| it.next()).unwrap_or(None) else {
                    return;
                };
                let got = run(&row.input, &row.text);
                let text_ok = got.text.contains(&row.text);
                let first_line = got.text.trim_end().lines().count() <= 2;
                if got.code != row.want || !text_ok || got.code == "500" {
                    let shown: String = got.text.chars().take(400).collect();
                    failures.lock().expect("lock").push(format!(
                        "[{:?}] {}: want {} with {:?}, got {} with {shown:?}",
                        row.area, row.name, row.want, row.text, got.code
                    ));
                } else if !first_line && got.code.parse::<u16>().is_ok_and(|c| c >= 400) {
                    failures.lock().expect("lock").push(format!(
                        "[{:?}] {}: the error text is not one line: {:?}",
                        row.area, row.name, got.text
                    ));
                }
            });
        }
    });
    failures.into_inner().expect("lock")
}

/// A Mercure 0.x token of the dev key without `kid` (the hub's default key).
fn mercure_token(claims: &Value) -> String {
    signed(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes()),
        claims,
    )
}

/// The Mercure hub: malformed forms, oversized and bad fields, reserved topics, bad
/// selectors, and tokens forged, expired, of the wrong dialect or with `alg: none`.
fn mercure_rows() -> Table {
    let mut table = Table::new(Area::Mercure);
    let hub = "/.well-known/mercure";
    let exp = now() + 600;
    let publisher = mercure_token(&json!({"mercure": {"publish": ["*"]}, "exp": exp}));
    let auth = bearer(&publisher);
    let form = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let topic = "topic=https%3A%2F%2Fexample.com%2Fc";
    let many = vec![topic; 17].join("&");
    let big = format!("{topic}&data={}", "x".repeat(33_000));
    let publishes: [(&str, String, &str, &str); 9] = [
        ("no topic", "data=x".into(), "400", "needs a `topic`"),
        ("topic `*`", "topic=*".into(), "400", "reserved"),
        (
            "a subscriptions topic",
            "topic=%2F.well-known%2Fmercure%2Fsubscriptions".into(),
            "400",
            "reserved",
        ),
        (
            "a topic with `#`",
            "topic=https%3A%2F%2Fx%2Fa%23b".into(),
            "400",
            "cannot be published here",
        ),
        ("17 topics", many, "400", "at most 16 topics"),
        (
            "an id on two lines",
            format!("{topic}&id=a%0Ab"),
            "400",
            "`id` must be one line",
        ),
        (
            "an empty type",
            format!("{topic}&type="),
            "400",
            "`type` must be one line",
        ),
        (
            "a retry that is no number",
            format!("{topic}&retry=soon"),
            "400",
            "`retry` must be a number",
        ),
        ("data over max-message-bytes", big, "413", "larger than"),
    ];
    for (name, body, want, text) in publishes {
        table.row(
            &format!("publish: {name}"),
            http("POST", hub, &form, body.as_bytes()),
            want,
            text,
        );
    }
    let json_body = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    table.row(
        "publish: a JSON body",
        http("POST", hub, &json_body, b"{}"),
        "400",
        "is a form",
    );
    let plain = [("Content-Type", "application/x-www-form-urlencoded")];
    table.row(
        "publish: no token",
        http("POST", hub, &plain, topic.as_bytes()),
        "401",
        "missing token",
    );
    let forged = format!("{}x", &publisher[..publisher.len() - 1]);
    let expired = mercure_token(&json!({"mercure": {"publish": ["*"]}, "exp": now() - 3600}));
    let none = assembled(
        &json!({"alg": "none"}),
        &json!({"mercure": {"publish": ["*"]}}),
        "",
    );
    let no_grant = signed(
        Algorithm::HS256,
        Some(DEV_KEY_ID),
        &EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes()),
        &json!({"iss": "https://issuer", "aud": "x", "exp": exp}),
    );
    // Without `typ: at+jwt` a token is read as 0.x: these claims grant nothing (403).
    let tokens: [(&str, String, &str); 4] = [
        ("a forged signature", forged, "signature"),
        ("an expired token", expired, "expired"),
        ("alg none", none, "invalid token"),
        (
            "a token without the publish grant",
            no_grant,
            "https://example.com/c",
        ),
    ];
    for (name, token, text) in tokens {
        let auth = bearer(&token);
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let want = if name.contains("grant") { "403" } else { "401" };
        table.row(
            &format!("publish: {name}"),
            http("POST", hub, &headers, topic.as_bytes()),
            want,
            text,
        );
    }
    let long = "a".repeat(1_100);
    let subscribes: [(&str, String, &str, &str); 5] = [
        (
            "no selector",
            format!("{hub}?lastEventID=1"),
            "400",
            "needs a `topic` or `match` selector",
        ),
        (
            "an unknown matcher",
            format!("{hub}?match_regex=a"),
            "400",
            "unknown matcher parameter",
        ),
        (
            "a selector over 1,024 bytes",
            format!("{hub}?topic={long}"),
            "400",
            "`topic=",
        ),
        (
            "a relative URL pattern",
            format!("{hub}?match_urlpattern=%2Fbooks%2F%3Aid"),
            "400",
            "`match_urlpattern=",
        ),
        (
            "no token on a hub without anonymous subscribers",
            format!("{hub}?topic=a"),
            "401",
            "missing token",
        ),
    ];
    for (name, path, want, text) in subscribes {
        table.row(
            &format!("subscribe: {name}"),
            http("GET", &path, &[], b""),
            want,
            text,
        );
    }
    table.row(
        "a stream link without Grip-Sig",
        http("GET", &format!("{hub}/link/0.1.k.abc?c=m%23*"), &[], b""),
        "403",
        "",
    );
    table
}

/// Resuming from history and `GET /history`: every new parameter and id form.
fn history_rows(fx: &Fixture) -> Table {
    let mut table = Table::new(Area::History);
    let topic = format!("hist/{}", unique("corpus"));
    let token = dev(&claims(&topic));
    let events = format!("/events?topic={}&auth={}", enc(&topic), enc(&token));
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = send(
            "POST",
            &format!("/events?topic={}", enc(&topic)),
            &[("Authorization", &bearer(&token))],
            format!("h{i}").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        ids.push(
            r.header("pubsub-history-id")
                .expect("history id")
                .to_owned(),
        );
    }
    let tag = format!("{:016x}", fnv1a(&topic));
    let held = &ids[3];
    let forged = format!(
        "{}{}",
        &held[..25],
        if held.ends_with('0') { '1' } else { '0' }
    );
    let rewinds = [
        ("0", "from 1 to 10000"),
        ("-1", "from 1 to 10000"),
        ("abc", "from 1 to 10000"),
        ("10001", "from 1 to 10000"),
        ("4", "must be at most 3"),
    ];
    for (n, text) in rewinds {
        let name = format!("rewind={n}");
        table.row(
            &name,
            http("GET", &format!("{events}&rewind={n}"), &[], b""),
            "400",
            text,
        );
    }
    let positions = [
        (
            "an id of another topic set",
            format!("{:016x}:{held}", 7),
            "another topic set",
        ),
        (
            "a forged id inside the held range",
            format!("{tag}:{forged}"),
            "never held",
        ),
        (
            "an id from the future",
            format!("{tag}:ffffffffffff-0000-00000001"),
            "future",
        ),
        (
            "a history id with upper-case hex",
            format!("{tag}:{}", held.to_uppercase()),
            "invalid last event id",
        ),
        (
            "a history id one digit short",
            format!("{tag}:{}", &held[..25]),
            "invalid last event id",
        ),
        (
            "a history id with a bad separator",
            format!("{tag}:{}", held.replacen('-', "_", 1)),
            "invalid last event id",
        ),
    ];
    for (name, id, text) in positions {
        table.row(
            &format!("Last-Event-ID: {name}"),
            http("GET", &events, &[("Last-Event-ID", &id)], b""),
            "400",
            text,
        );
    }
    table.row(
        "lastEventId=Earliest (case matters)",
        http("GET", &format!("{events}&lastEventId=Earliest"), &[], b""),
        "400",
        "invalid last event id",
    );
    table.row(
        "rewind on a topic without history",
        http(
            "GET",
            &format!(
                "/events?topic={}&auth={}&rewind=2",
                enc(&fx.topic),
                enc(&fx.good)
            ),
            &[],
            b"",
        ),
        "400",
        "none of the stream's topics keeps history",
    );
    let auth = [("Authorization", bearer(&dev(&claims("hist/#"))))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let api = |query: &str| format!("/history?topic={}&{query}", enc(&topic));
    let api_rows = [
        (
            "limit=0",
            api("limit=0"),
            "400",
            "`limit` must be a whole number from 1 to 1000",
        ),
        (
            "limit=1001",
            api("limit=1001"),
            "400",
            "`limit` must be a whole number from 1 to 1000",
        ),
        (
            "last=x",
            api("last=x"),
            "400",
            "`last` must be a whole number",
        ),
        (
            "after and last together",
            api("after=earliest&last=2"),
            "400",
            "not both",
        ),
        ("after=garbage", api("after=garbage"), "400", "`after`"),
        (
            "after=an event id of another topic",
            api(&format!("after={:016x}:{held}", 7)),
            "400",
            "names no position",
        ),
        (
            "after=a forged id",
            api(&format!("after={forged}")),
            "400",
            "never held",
        ),
        (
            "two topics",
            format!("/history?topic={}&topic=hist/other", enc(&topic)),
            "400",
            "exactly one",
        ),
        (
            "a filter",
            "/history?topic=hist/%2B".to_owned(),
            "400",
            "is a filter",
        ),
        ("no topic", "/history".to_owned(), "400", "topic"),
    ];
    for (name, path, status, text) in api_rows {
        table.row(
            &format!("GET /history {name}"),
            http("GET", &path, &auth, b""),
            status,
            text,
        );
    }
    table.row(
        "GET /history a topic without history",
        http(
            "GET",
            &format!("/history?topic={}", enc(&fx.topic)),
            &[("Authorization", &bearer(&fx.good))],
            b"",
        ),
        "404",
        "keeps no history",
    );
    table.row(
        "GET /history of a topic the token may not read",
        http(
            "GET",
            &api(""),
            &[("Authorization", &bearer(&fx.good))],
            b"",
        ),
        "403",
        "read",
    );
    table
}

/// FNV-1a 64 of `text`: a topic's tag in an event id.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn every_bad_input_gets_its_refusal_and_nothing_crashes() {
    let started = Instant::now();
    // Start the stack with the corpus's settings before any helper starts the default.
    stack();
    let fx = Fixture::new();
    let tables = [
        publish_rows(&fx),
        subscribe_rows(&fx),
        history_rows(&fx),
        grip_rows(&fx),
        mqtt_rows(&fx, true),
        mqtt_rows(&fx, false),
        websocket_rows(&fx),
        admin_rows(),
        mercure_rows(),
    ];
    let rows: Vec<Row> = tables.into_iter().flat_map(|t| t.rows).collect();
    let mut by_area: BTreeMap<Area, usize> = BTreeMap::new();
    for row in &rows {
        *by_area.entry(row.area).or_default() += 1;
    }
    let names: std::collections::HashSet<(Area, &str)> =
        rows.iter().map(|r| (r.area, r.name.as_str())).collect();
    assert_eq!(names.len(), rows.len(), "row names are distinct");
    assert!(rows.len() >= 60, "{} rows", rows.len());

    let failures = run_rows(&rows, 12);
    eprintln!(
        "bad-input corpus: {} rows {by_area:?} in {:.1} s, {} failed",
        rows.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );

    // The app itself must never have crashed. At its default log level Viceroy writes a
    // guest's panic message and "WebAssembly trapped: ... wasm trap: wasm `unreachable`
    // instruction executed" to its output, which devstack keeps in the run directory.
    let log = std::fs::read_to_string(stack().run_dir().join("viceroy.log")).expect("viceroy.log");
    let crashes: Vec<&str> = log
        .lines()
        .filter(|l| {
            ["panicked", "trapped", "wasm trap", "unreachable"]
                .iter()
                .any(|n| l.contains(n))
        })
        .collect();
    assert!(
        failures.is_empty() && crashes.is_empty(),
        "{} of {} rows failed:\n{}\n\nViceroy log lines showing a crash:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n"),
        crashes.join("\n")
    );
}
