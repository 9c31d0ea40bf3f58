use pubsub_core::ports::memory::InMemory;

use super::*;
use crate::router::{MethodRouter, Routes};
use crate::test_helpers::*;
use crate::wrap::WrapLayer;

/// A route table with the paths `/events` and `/admin/keys/{id}`.
fn routes() -> &'static Routes<()> {
    static ROUTES: std::sync::OnceLock<Routes<()>> = std::sync::OnceLock::new();
    fn echo(_: &()) -> crate::router::BoxService {
        crate::router::boxed(Echo)
    }
    ROUTES.get_or_init(|| {
        Routes::new()
            .route("/events", MethodRouter::new().on(http::Method::GET, echo))
            .route(
                "/admin/keys/{id}",
                MethodRouter::new().on(http::Method::DELETE, echo),
            )
    })
}

fn logged(ports: &InMemory, setting: Option<&str>, req: Request) -> Result<Response, Error> {
    let log = RequestLog::new(ports.platform.clone(), routes(), &["/events"]);
    let mut svc = WrapLayer::new(log).layer(Echo);
    let mut req = req;
    let config = Config::load(|k| {
        (k == "request-log")
            .then(|| setting.map(str::to_owned))
            .flatten()
    });
    req.extensions_mut().insert(config.expect("valid setting"));
    call(&mut svc, req)
}

fn lines(ports: &InMemory) -> Vec<serde_json::Value> {
    ports
        .log
        .lines()
        .iter()
        .map(|(endpoint, line)| {
            assert_eq!(endpoint, "requests");
            serde_json::from_str(line).expect("a JSON line")
        })
        .collect()
}

#[test]
fn nothing_is_logged_by_default() {
    let ports = InMemory::new();
    logged(&ports, None, get("/events?topic=a")).expect("passes");
    logged(&ports, Some("off"), get("/events?topic=a")).expect("passes");
    assert!(ports.log.lines().is_empty());
}

#[test]
fn each_request_gets_one_line_with_its_route_status_and_duration() {
    let ports = InMemory::new();
    let res = logged(&ports, Some("requests"), get("/admin/keys/k9?topic=a")).expect("passes");
    assert_eq!(res.status(), 200);
    logged(&ports, Some("requests"), get("/nowhere")).expect("passes");
    let lines = lines(&ports);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["route"], "/admin/keys/{id}",
        "the pattern, not the path"
    );
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["duration_us"], 250);
    assert_eq!(lines[0]["time"], "2027-01-15T08:00:00.000Z");
    assert_eq!(lines[1]["route"], serde_json::Value::Null);
    assert!(!ports.log.lines()[0].1.contains("k9"));
}

#[test]
fn an_error_is_logged_with_the_status_the_client_gets() {
    let ports = InMemory::new();
    let failing = |req: Request| -> Result<Response, Error> {
        let _ = req;
        Err(Error::MissingCredentials)
    };
    let log = RequestLog::new(ports.platform.clone(), routes(), &["/events"]);
    let mut svc = WrapLayer::new(log).layer(crate::router::handler(failing));
    let config = Config::load(|k| (k == "request-log").then(|| "requests".to_owned()));
    let config = config.expect("valid");
    for accept in ["text/event-stream", "*/*"] {
        let mut req = request("GET", "/events?topic=a")
            .header("accept", accept)
            .body(Vec::new())
            .unwrap();
        req.extensions_mut().insert(config.clone());
        assert_eq!(
            call(&mut svc, req).expect_err("fails"),
            Error::MissingCredentials
        );
    }
    let lines = lines(&ports);
    // An EventSource reads the stream-error of a 200; curl gets the 401.
    assert_eq!(
        (lines[0]["status"].as_u64(), lines[1]["status"].as_u64()),
        (Some(200), Some(401))
    );
    assert!(lines.iter().all(|l| l["error"] == "unauthorized"));
}

#[test]
fn a_sample_logs_about_its_share_of_requests() {
    let ports = InMemory::new();
    for _ in 0..1000 {
        logged(&ports, Some("requests sample 0.25"), get("/events")).expect("passes");
    }
    let n = ports.log.lines().len();
    assert!((150..=350).contains(&n), "{n} of 1000 logged at 0.25");
    let ports = InMemory::new();
    for _ in 0..100 {
        logged(&ports, Some("requests sample 0.000001"), get("/events")).expect("passes");
    }
    assert!(ports.log.lines().len() <= 1);
}
