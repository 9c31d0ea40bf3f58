//! Topics: the names messages are published to, the filters and selectors subscribers and
//! tokens use, and reading them from a request. Each string is parsed once, where it
//! enters; the types say what it is from then on.
//!
//! - [`name`]: [`TopicName`], a validated topic name (no wildcard).
//! - [`filter`]: [`Filter`], a validated MQTT topic filter: matching and covering.
//! - [`wildcard`]: the bound on wildcard subscriptions and the publish-side expansion of
//!   a topic into the filters that match it.
//! - [`selector`]: [`Selector`], a name or a wildcard filter, parsed from a subscription
//!   or a token claim.
//! - [`query`]: the `topic` parameters of a query string, as names or selectors.
//!
//! Dependencies run one way: `name` ← `filter` ← `wildcard` ← `selector` ← `query`. The
//! Fanout channels of topics and filters are named in [`crate::audience`].

pub mod filter;
pub mod name;
pub mod query;
pub mod selector;
pub mod wildcard;

pub use filter::{Filter, FilterError};
pub use name::{NameError, TopicName, MAX_TOPIC_BYTES};
pub use selector::{Selector, SelectorError};
