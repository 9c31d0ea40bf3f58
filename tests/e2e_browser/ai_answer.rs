//! The AI-answer scenarios (`tests/js/browser/ai_answer.mjs`): a producer here publishes an
//! answer token by token over HTTP while a page in Chromium renders it from an
//! `EventSource`; the page is reloaded half way (it resumes from the id it kept), or its
//! network drops (its `EventSource` reconnects with `Last-Event-ID`). The scenario checks
//! that the page shows the whole answer, in order, each token once.
//!
//! The stack is one of its own: history on for `ai/+/answer` and the app requests counted
//! (how many the replay took). The scenario talks to the producer through `ask`:
//! `produce` starts it, `mark` notes where the request log stands, `published` waits for
//! the producer's end and answers, as JSON, the answer, when each publish was answered
//! and the app requests of the answer's topic since the mark.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pubsub_devstack::{Stack, StackOptions};
use serde_json::{json, Value};

use super::e2e::{enc, token, unique};
use super::{config, run_with, SCENARIO_LIMIT};

/// The history rule of the stack: an hour of up to 20,000 messages per answer topic.
const AI_HISTORY: &str = "ai/+/answer 20000 1h";
/// Tokens of the answer, then the end marker.
const TOKENS: usize = 2_000;
const END: &str = "[DONE]";
/// One publish every 4 ms (250 per second) unless a publish takes longer.
const PERIOD: Duration = Duration::from_millis(4);
/// Most publishes in flight on the producer's connection.
const WINDOW: usize = 8;
/// The slowest rate the test accepts (publishes answered per second): faster than a
/// language model streams its tokens (tens to about 150 a second), with room for a loaded
/// machine, where the pipelined producer has measured 161 to 203 here.
const MIN_RATE: f64 = 100.0;

/// The stack of the AI-answer scenarios.
fn history_stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        Stack::start(StackOptions {
            quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
            config: vec![("history".to_owned(), AI_HISTORY.to_owned())],
            count_app_requests: true,
            ..StackOptions::default()
        })
        .unwrap_or_else(|e| panic!("cannot start a stack with history: {e}"))
    })
}

/// What the producer did: the whole answer, and when each publish (the end marker last)
/// was answered, in ms since the epoch.
struct Produced {
    answer: String,
    acked_ms: Vec<u64>,
    elapsed: Duration,
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Publishes `t0 t1 … t1999 ` one token per request, then [`END`], on one connection with
/// up to [`WINDOW`] requests pipelined: HTTP/1.1 answers a connection's requests in order
/// and a server processes pipelined POSTs one after the other (RFC 9112, 9.3.2), so the
/// broker receives and orders them as sent, as from a client that awaits each publish,
/// without waiting a round trip per token.
fn produce(app_url: String, topic: String, token: String) -> JoinHandle<Produced> {
    std::thread::spawn(move || {
        let address = app_url.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&address).expect("connect to the app");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let acked = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (stream, acked) = (stream.try_clone().expect("clone the stream"), acked.clone());
            std::thread::spawn(move || read_answers(stream, &acked))
        };
        let mut stream = stream;
        let mut answer = String::new();
        let started = Instant::now();
        for i in 0..=TOKENS {
            let text = if i == TOKENS {
                END.to_owned()
            } else {
                format!("t{i} ")
            };
            let due = started + PERIOD * u32::try_from(i).unwrap_or(u32::MAX);
            while Instant::now() < due || i - acked.load(Ordering::Acquire) >= WINDOW {
                std::thread::sleep(Duration::from_micros(200));
            }
            let head = format!(
                "POST /events?topic={} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Length: {}\r\n\r\n",
                enc(&topic),
                text.len()
            );
            stream
                .write_all(format!("{head}{text}").as_bytes())
                .expect("send a publish");
            if i < TOKENS {
                answer.push_str(&text);
            }
        }
        let acked_ms = reader.join().expect("the answers");
        Produced {
            answer,
            acked_ms,
            elapsed: started.elapsed(),
        }
    })
}

/// Reads the answers to the producer's `TOKENS + 1` publishes (each must be a 200); counts
/// them in `acked` and answers when each came, in ms since the epoch.
fn read_answers(stream: TcpStream, acked: &AtomicUsize) -> Vec<u64> {
    let mut answers = BufReader::new(stream);
    let mut at = Vec::with_capacity(TOKENS + 1);
    let mut line = String::new();
    while at.len() <= TOKENS {
        line.clear();
        answers.read_line(&mut line).expect("read an answer");
        assert!(
            line.starts_with("HTTP/1.1 200"),
            "publish {}: {line:?}",
            at.len()
        );
        let mut length = 0;
        loop {
            line.clear();
            answers.read_line(&mut line).expect("read a header");
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("a length");
                }
            }
        }
        let mut body = vec![0; length];
        answers.read_exact(&mut body).expect("read a body");
        at.push(epoch_ms(SystemTime::now()));
        acked.fetch_add(1, Ordering::Release);
    }
    at
}

/// Runs `scenario` on the history stack, playing the producer; returns the script's lines.
fn run_answer(scenario: &str) -> Vec<String> {
    let stack = history_stack();
    // Alone: the producer's rate is part of what is checked.
    let _turn = super::SOLO.write().unwrap_or_else(|e| e.into_inner());
    let answer_topic = format!("ai/{}/answer", unique("chat"));
    let topics = json!({ "shown": answer_topic, "fromPage": answer_topic });
    let mut cfg = config(
        stack,
        scenario,
        topics,
        // Twice the usual bound: on a loaded machine the answer alone may take a minute.
        json!({ "tokens": TOKENS, "end": END, "limitMs": 2 * SCENARIO_LIMIT.as_millis() as u64 }),
    );
    cfg["token"] = Value::from(token(&[&answer_topic], &[]));
    let writer = token(&[], &[&answer_topic]);
    let log = stack.app_requests().expect("the stack counts app requests");
    let mut producer = None;
    let mut mark = (0, Instant::now(), SystemTime::now());
    let mut rate = 0.0;
    let lines = run_with(cfg, |request| match request {
        "produce" => {
            producer = Some(produce(
                stack.app_url(),
                answer_topic.clone(),
                writer.clone(),
            ));
            "producing".to_owned()
        }
        "mark" => {
            mark = (log.len(), Instant::now(), SystemTime::now());
            "marked".to_owned()
        }
        "published" => {
            let produced = producer
                .take()
                .expect("produce came first")
                .join()
                .expect("producer");
            rate = TOKENS as f64 / produced.elapsed.as_secs_f64();
            let needle = enc(&answer_topic);
            let requests: Vec<Value> = log.snapshot()[mark.0..]
                .iter()
                .filter(|r| r.target.contains(&needle))
                .map(|r| {
                    let at = mark.2 + r.at.saturating_duration_since(mark.1);
                    json!({ "method": r.method, "target": r.target, "atMs": epoch_ms(at) })
                })
                .collect();
            json!({
                "answer": produced.answer,
                "ackedMs": produced.acked_ms,
                "rate": rate,
                "appRequests": requests,
            })
            .to_string()
        }
        other => panic!("unexpected request {other:?}"),
    });
    // Checked last, so that a slow machine still shows whether the page got it right.
    assert!(
        rate >= MIN_RATE,
        "the page showed the whole answer, but the producer published only {rate:.0} tokens/s"
    );
    lines
}

#[test]
fn an_ai_answer_page_reloaded_half_way_shows_the_whole_answer_once() {
    run_answer("aiAnswerReload");
}

#[test]
fn an_ai_answer_page_whose_network_drops_resumes_with_last_event_id() {
    run_answer("aiAnswerNetworkDrop");
}
