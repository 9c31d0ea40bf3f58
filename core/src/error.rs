//! The one error type of the broker. Every layer and handler returns it; only
//! the `ErrorMap` layer turns it into a response, so the status codes
//! and bodies below are decided in one place ([`Error::status`], [`Error::condition`]).

use std::fmt;

use http::StatusCode;
use pubsub_config::ConfigError;

/// Everything that can make a request fail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No route matches the path.
    NotFound,
    /// The path exists but not for this method; carries the `Allow` header value.
    MethodNotAllowed(String),
    /// The feature serving this route is switched off in the configuration.
    Disabled(&'static str),
    /// A request parameter is invalid; the text says which and why.
    BadRequest(String),
    /// The body is larger than the limit (in bytes).
    PayloadTooLarge(usize),
    /// Delivering the message to the wildcard subscriptions that could match its topic
    /// would take more than the publish budget (the publish use case's fan-out plan).
    FanoutTooLarge {
        /// The topic.
        topic: String,
        /// How many filter channels its messages go to.
        filters: usize,
        /// The bytes it would have taken, at least.
        bytes: usize,
        /// The bytes one publish may send to them.
        budget: usize,
    },
    /// No token in `Authorization` nor in `auth`.
    MissingCredentials,
    /// No token where this route looks for one; the text says where that is.
    MissingToken(&'static str),
    /// The token or its header could not be used; the text says why.
    InvalidToken(String),
    /// The token names a signing key that does not exist (or was revoked).
    UnknownKey(String),
    /// The token is valid but does not grant this access to this topic.
    Forbidden {
        /// `read` or `write`.
        access: &'static str,
        /// The topic asked for.
        topic: String,
    },
    /// Admin credentials missing or wrong.
    AdminUnauthorized,
    /// A `Grip-Sig` header is present but does not verify.
    BadGripSig(String),
    /// A Config Store value is invalid.
    Config(ConfigError),
    /// A store the request needs could not be read or written.
    StoreUnavailable(String),
    /// The publish API refused or could not be reached.
    PublishFailed(String),
    /// A store refused a write for rate (Fastly KV: one write per second per key);
    /// answered with `Retry-After`.
    RateLimited {
        /// What was being written, e.g. `the retained message of topic "a"`.
        what: String,
        /// Seconds to wait before retrying.
        retry_after_secs: u32,
    },
    /// The caller went over a rate limit of the service (Config Store `rate-limits`), or
    /// is still in its penalty box; answered with `Retry-After`.
    OverLimit {
        /// The class and its limit, e.g. `publish allows 20/s over 10s per caller`.
        limit: String,
        /// Seconds to wait before retrying: the penalty.
        retry_after_secs: u32,
    },
    /// A resource named in the path does not exist.
    NoSuchResource(String),
    /// A setting of the service (Config Store or Secret Store) cannot be used; the text
    /// names the setting, never a secret's value.
    Misconfigured(String),
    /// A bug or an unexpected platform failure.
    Internal(String),
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::Disabled(_) | Self::NoSuchResource(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) | Self::FanoutTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingCredentials
            | Self::MissingToken(_)
            | Self::InvalidToken(_)
            | Self::UnknownKey(_)
            | Self::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::BadGripSig(_) => StatusCode::FORBIDDEN,
            Self::Config(_) | Self::Misconfigured(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::PublishFailed(_) => StatusCode::BAD_GATEWAY,
            Self::RateLimited { .. } | Self::OverLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// A short machine-readable name, used as `condition` in SSE `stream-error` events.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::NotFound | Self::Disabled(_) | Self::NoSuchResource(_) => "not-found",
            Self::MethodNotAllowed(_) => "method-not-allowed",
            Self::BadRequest(_) => "bad-request",
            Self::PayloadTooLarge(_) | Self::FanoutTooLarge { .. } => "payload-too-large",
            Self::MissingCredentials
            | Self::MissingToken(_)
            | Self::InvalidToken(_)
            | Self::UnknownKey(_)
            | Self::AdminUnauthorized => "unauthorized",
            Self::Forbidden { .. } | Self::BadGripSig(_) => "forbidden",
            Self::Config(_) | Self::Misconfigured(_) | Self::Internal(_) => "internal-error",
            Self::StoreUnavailable(_) => "service-unavailable",
            Self::PublishFailed(_) => "bad-gateway",
            Self::RateLimited { .. } | Self::OverLimit { .. } => "too-many-requests",
        }
    }

    /// Seconds the client should wait before retrying (`Retry-After`), for a refusal for
    /// rate.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            }
            | Self::OverLimit {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such endpoint"),
            Self::MethodNotAllowed(allow) => write!(f, "method not allowed; allowed: {allow}"),
            Self::Disabled(feature) => write!(f, "{feature} is disabled on this service"),
            Self::BadRequest(why) => f.write_str(why),
            Self::PayloadTooLarge(limit) => write!(f, "message is larger than {limit} bytes"),
            Self::FanoutTooLarge {
                topic,
                filters,
                bytes,
                budget,
            } => write!(
                f,
                "message too large for the wildcard subscriptions of topic {topic:?}: it goes \
                 to {filters} filter channels, over {bytes} bytes, and one publish may send \
                 {budget} bytes to them; send a smaller message, use a topic with fewer levels, or \
                 lower the Config Store's `wildcard-max-levels`"
            ),
            Self::MissingToken(where_) => write!(f, "missing token: send {where_}"),
            Self::MissingCredentials => f.write_str(
                "missing token: send `Authorization: Bearer <token>` or the `auth` query parameter",
            ),
            Self::InvalidToken(why) => write!(f, "invalid token: {why}"),
            Self::UnknownKey(kid) => write!(f, "invalid token: unknown signing key {kid:?}"),
            Self::Forbidden { access, topic } => {
                write!(f, "token does not grant {access} access to topic {topic:?}")
            }
            Self::AdminUnauthorized => f.write_str("missing or wrong admin credentials"),
            Self::BadGripSig(why) => write!(f, "Grip-Sig rejected: {why}"),
            Self::Config(e) => e.fmt(f),
            Self::StoreUnavailable(why) => write!(f, "storage unavailable: {why}"),
            Self::PublishFailed(why) => write!(f, "publish failed: {why}"),
            Self::RateLimited {
                what,
                retry_after_secs,
            } => write!(
                f,
                "too many writes to {what}: the store takes one per second; \
                 retry after {retry_after_secs} s"
            ),
            Self::OverLimit {
                limit,
                retry_after_secs,
            } => write!(
                f,
                "too many requests: {limit}; retry after {retry_after_secs} s"
            ),
            Self::NoSuchResource(what) => write!(f, "{what} not found"),
            Self::Misconfigured(why) => write!(f, "service misconfigured: {why}"),
            Self::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}
