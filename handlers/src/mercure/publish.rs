//! `POST /.well-known/mercure`: publishes one update.
//!
//! The body is a form (`application/x-www-form-urlencoded`): `topic` (required, repeated
//! for the alternates; each must also be a topic name of this broker: at most 256 bytes,
//! no `+`, `#` or NUL), `data`, `private` (any value, even empty, makes the update
//! private), `id`, `type`, `retry`. The publisher's token must grant publishing to every
//! topic. The answer is `200 text/plain` with the update's id: the publisher's, or
//! `urn:uuid:<random>` (the publisher's id is the SSE `id:`, never a Fanout item id).

use http::header::{HeaderValue, CONTENT_TYPE};

use pubsub_core::extensions::required;
use pubsub_core::mercure::Update;
use pubsub_core::ports::Platform;
use pubsub_core::publish::publish_mercure;
use pubsub_core::topic::query::query_values;
use pubsub_core::topic::TopicName;
use pubsub_core::{Config, Error, Request, Response, Result};

use super::{auth, hub};

/// The longest `id` and `type`, in bytes.
const MAX_FIELD_BYTES: usize = 256;

/// The most topics of one update (the canonical one and its alternates).
const MAX_TOPICS: usize = 16;

/// Publishes the update `req` carries.
pub fn publish(platform: &Platform, req: Request) -> Result {
    let config = required::<Config>(&req)?;
    let hub = hub(config)?;
    let body = form_body(&req, config)?;
    let field = |name: &'static str| query_values(Some(body), name);
    let topics = topics(field("topic"))?;
    let token = auth::token(&req, hub, false)?.ok_or_else(auth::missing)?;
    let grants = auth::verify(platform, hub, &token)?;
    if let Some(topic) = grants.first_unpublishable(&topic_names(&topics)) {
        let topic = topic.to_owned();
        return Err(Error::Forbidden {
            access: "publish",
            topic,
        });
    }
    let data = field("data").next().transpose()?.unwrap_or_default();
    if data.len() > config.max_message_bytes {
        return Err(Error::PayloadTooLarge(config.max_message_bytes));
    }
    let id = match text_field(field("id").next().transpose()?, "id")? {
        Some(id) => id,
        None => generated_id(platform)?,
    };
    let kind = text_field(field("type").next().transpose()?, "type")?;
    let update = Update {
        topics: &topics,
        data: &data,
        id: &id,
        kind: kind.as_deref(),
        retry: retry(field("retry").next().transpose()?)?,
        private: field("private").next().is_some(),
    };
    publish_mercure(platform, config, &update, None)?;
    let mut res = Response::new(id.into_bytes());
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    res.headers_mut().insert(CONTENT_TYPE, plain);
    Ok(res)
}

/// The form body of `req`, as text.
fn form_body<'a>(req: &'a Request, config: &Config) -> Result<&'a str, Error> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(Error::BadRequest(
            "a Mercure update is a form: Content-Type application/x-www-form-urlencoded".into(),
        ));
    }
    // The data, and room for the other fields percent-encoded.
    if req.body().len() > 3 * config.max_message_bytes + 16_384 {
        return Err(Error::PayloadTooLarge(config.max_message_bytes));
    }
    std::str::from_utf8(req.body())
        .map_err(|_| Error::BadRequest("the form body is not ASCII".into()))
}

/// The update's topics, each a topic name of this broker and not reserved.
fn topics(values: impl Iterator<Item = Result<String, Error>>) -> Result<Vec<TopicName>, Error> {
    let mut topics = Vec::new();
    for value in values {
        let value = value?;
        if value == "*" || value.contains("/.well-known/mercure/subscriptions") {
            return Err(Error::BadRequest(format!(
                "topic {value:?} is reserved by the Mercure protocol"
            )));
        }
        let topic = TopicName::parse(&value).map_err(|e| {
            Error::BadRequest(format!("topic {value:?} cannot be published here: {e}"))
        })?;
        topics.push(topic);
    }
    if topics.is_empty() {
        return Err(Error::BadRequest("a Mercure update needs a `topic`".into()));
    }
    if topics.len() > MAX_TOPICS {
        return Err(Error::BadRequest(format!(
            "a Mercure update may have at most {MAX_TOPICS} topics"
        )));
    }
    Ok(topics)
}

fn topic_names(topics: &[TopicName]) -> Vec<&str> {
    topics.iter().map(TopicName::as_str).collect()
}

/// An `id` or `type`: one line of at most [`MAX_FIELD_BYTES`], not empty.
fn text_field(value: Option<String>, name: &str) -> Result<Option<String>, Error> {
    let Some(value) = value else { return Ok(None) };
    let bad = value.is_empty()
        || value.len() > MAX_FIELD_BYTES
        || value.contains(['\r', '\n', '\0'])
        || name == "id" && value.starts_with('#');
    match bad {
        false => Ok(Some(value)),
        true => Err(Error::BadRequest(format!(
            "`{name}` must be one line of 1 to {MAX_FIELD_BYTES} bytes{}",
            if name == "id" {
                " not starting with `#`"
            } else {
                ""
            }
        ))),
    }
}

fn retry(value: Option<String>) -> Result<Option<u64>, Error> {
    value
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                Error::BadRequest(format!(
                    "`retry` must be a number of milliseconds, not {v:?}"
                ))
            })
        })
        .transpose()
}

/// `urn:uuid:` and a random (version 4) UUID.
fn generated_id(platform: &Platform) -> Result<String, Error> {
    let mut b = [0u8; 16];
    platform.env.random(&mut b).map_err(Error::Internal)?;
    b[6] = b[6] & 0x0f | 0x40;
    b[8] = b[8] & 0x3f | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}
