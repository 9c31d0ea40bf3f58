//! The demo page: `GET /`, with its `/demo.css` and `/demo.js`.
//!
//! A small page without dependencies that subscribes with `EventSource` (durable or not),
//! publishes with `fetch` (text or a file, `retain`, `ttl`) and connects with MQTT.js over
//! WebSocket (MQTT 5 or 3.1.1). It takes the token from a form field or from the URL
//! fragment (`/#token=...`, which browsers never send to a server).
//!
//! Runs after `RequireFeature(demo)`: Config Store `demo` = `false` answers 404. The three
//! files are compiled into the module (see [`ASSETS`]). MQTT.js is not: the page loads it
//! only when MQTT is used, from [`MQTT_JS_URL`], and the browser refuses the file unless
//! it matches the subresource-integrity hash in `demo/demo.js`.
//!
//! Every answer carries a `Content-Security-Policy` that lets the page load only its own
//! files and that one script, and talk only to its own origin (`EventSource`, `fetch`,
//! the `/mqtt` WebSocket; MQTT.js runs its keep-alive timer in a `blob:` worker, which
//! browsers do not slow down in a background tab); `Cache-Control: no-cache`, so a browser asks again after a
//! deployment; `X-Content-Type-Options: nosniff`; and `Referrer-Policy: no-referrer`.

use http::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};

use pubsub_core::{Error, Request, Response, Result};

/// The one script the page loads from elsewhere: MQTT.js's browser build, pinned.
pub const MQTT_JS_URL: &str = "https://cdn.jsdelivr.net/npm/mqtt@5.16.0/dist/mqtt.min.js";

/// One file of the page.
#[derive(Clone, Copy, Debug)]
pub struct Asset {
    /// The path it is served at.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its contents.
    pub body: &'static str,
}

/// The page's files, by path.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("demo/index.html"),
    },
    Asset {
        path: "/demo.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("demo/demo.css"),
    },
    Asset {
        path: "/demo.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("demo/demo.js"),
    },
];

/// The page's `Content-Security-Policy`.
fn policy() -> String {
    format!(
        "default-src 'none'; script-src 'self' {MQTT_JS_URL}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// `GET` one of [`ASSETS`], by the request's path.
pub fn serve(req: Request) -> Result {
    let asset = ASSETS
        .iter()
        .find(|a| a.path == req.uri().path())
        .ok_or(Error::NotFound)?;
    let mut res = Response::new(asset.body.as_bytes().to_vec());
    let headers: [(HeaderName, String); 5] = [
        (CONTENT_TYPE, asset.content_type.to_owned()),
        (CACHE_CONTROL, "no-cache".to_owned()),
        (CONTENT_SECURITY_POLICY, policy()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (REFERRER_POLICY, "no-referrer".to_owned()),
    ];
    for (name, value) in headers {
        let value = HeaderValue::try_from(value)
            .map_err(|e| Error::Internal(format!("demo page header {name}: {e}")))?;
        res.headers_mut().insert(name, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result {
        let req = http::Request::get(path).body(Vec::new()).expect("request");
        serve(req)
    }

    #[test]
    fn every_asset_is_served_with_its_type_and_the_policy() {
        for asset in ASSETS {
            let res = get(asset.path).expect(asset.path);
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()[CONTENT_TYPE], asset.content_type);
            assert_eq!(res.body(), asset.body.as_bytes());
            let csp = res.headers()[CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii");
            assert!(
                csp.contains("default-src 'none'") && csp.contains(MQTT_JS_URL),
                "{csp}"
            );
            assert_eq!(res.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }

    #[test]
    fn another_path_is_not_found() {
        assert_eq!(get("/demo.txt").expect_err("unknown"), Error::NotFound);
    }

    /// The policy allows the one script the page loads: the address in `demo.js` must be
    /// [`MQTT_JS_URL`], pinned to a version, with an integrity hash.
    #[test]
    fn the_page_loads_mqtt_js_from_the_pinned_address_with_a_hash() {
        let js = ASSETS[2].body;
        assert!(js.contains(&format!("src: \"{MQTT_JS_URL}\"")));
        assert!(js.contains("integrity: \"sha384-"));
        assert!(MQTT_JS_URL.contains("mqtt@5.16.0/"));
    }

    #[test]
    fn the_page_links_only_its_own_files() {
        let html = ASSETS[0].body;
        for asset in &ASSETS[1..] {
            assert!(
                html.contains(&format!("\"{}\"", asset.path)),
                "{}",
                asset.path
            );
        }
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "inline code"
        );
    }
}
