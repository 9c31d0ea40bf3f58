//! The principal: who is making a request and what they may read and write, as proven by
//! a verified credential (a token, see [`crate::tokens`]; or a link's grant, see
//! [`crate::grant`]).
//!
//! The claims arrive as [`Selector`]s, each parsed once by the credential's dialect
//! ([`crate::claims`]): a topic name grants exactly that topic, a filter every topic it
//! matches. A claim that was not a name or a filter was dropped there, so it grants
//! nothing and leaves the other claims in force. [`Principal::allows`] asks whether some
//! claim matches a topic name (publishing, delivering); [`Principal::check`] whether some
//! claim covers a selector (a subscription to a filter needs a claim that covers every
//! topic it can match).
//!
//! Times (`exp`, `nbf`) are honoured with [`LEEWAY_SECS`] of clock skew.

use crate::topic::{Selector, TopicName};
use crate::Error;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Who is making the request, as proven by a verified credential.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// What the bearer may subscribe to.
    pub read: Vec<Selector>,
    /// What the bearer may publish to.
    pub write: Vec<Selector>,
    /// Expiry, seconds since the epoch.
    pub exp: Option<u64>,
    /// Not-before, seconds since the epoch.
    pub nbf: Option<u64>,
    /// The subject (`sub`), if the credential names one: who the bearer is, for rate
    /// limits.
    pub sub: Option<String>,
    /// The id of the signing key that verified the credential: revoking that key ends
    /// every connection it authorised (see `grip::revocation_requests`).
    pub kid: String,
}

/// The kind of access a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Subscribe.
    Read,
    /// Publish.
    Write,
}

impl Access {
    /// The access as [`Error::Forbidden`] names it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl Principal {
    /// Whether some claim of `access` matches topic name `topic`.
    pub fn allows(&self, access: Access, topic: &str) -> bool {
        self.claims(access).iter().any(|claim| claim.matches(topic))
    }

    /// Whether some claim of `access` covers `selector`: every topic it selects.
    pub fn covers(&self, access: Access, selector: &Selector) -> bool {
        self.claims(access)
            .iter()
            .any(|claim| claim.covers(selector))
    }

    fn claims(&self, access: Access) -> &[Selector] {
        match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        }
    }

    /// `Ok` when some claim of `access` covers `selector`, else [`Error::Forbidden`].
    pub fn check(&self, access: Access, selector: &Selector) -> Result<(), Error> {
        match self.covers(access, selector) {
            true => Ok(()),
            false => Err(forbidden(access, selector.as_str())),
        }
    }

    /// `Ok` when some claim of `access` matches topic name `topic`, else
    /// [`Error::Forbidden`].
    pub fn check_topic(&self, access: Access, topic: &TopicName) -> Result<(), Error> {
        match self.allows(access, topic) {
            true => Ok(()),
            false => Err(forbidden(access, topic)),
        }
    }

    /// Whether the credential has expired at `now` (leeway included).
    pub fn expired_at(&self, now: u64) -> bool {
        self.exp
            .is_some_and(|exp| now > exp.saturating_add(LEEWAY_SECS))
    }
}

fn forbidden(access: Access, topic: &str) -> Error {
    Error::Forbidden {
        access: access.name(),
        topic: topic.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(list: &[&str]) -> Vec<Selector> {
        let parsed = list.iter().map(|c| Selector::claim((*c).to_owned()));
        parsed.filter_map(Result::ok).collect()
    }

    #[test]
    fn claims_are_exact_topics_or_filters_and_a_malformed_one_matches_nothing() {
        let p = Principal {
            read: claims(&["a/#/b", "sensors/+/temp", "x"]),
            write: claims(&["a#", "logs/#", "+"]),
            ..Principal::default()
        };
        let cases: [(Access, &str, bool); 12] = [
            (Access::Read, "sensors/1/temp", true),
            (Access::Read, "sensors/1/hum", false),
            (Access::Read, "x", true),
            (Access::Read, "x/y", false),
            (Access::Read, "a/#/b", false),
            (Access::Read, "a/z/b", false),
            (Access::Write, "logs", true),
            (Access::Write, "logs/app/1", true),
            (Access::Write, "top", true),
            (Access::Write, "$SYS", false),
            (Access::Write, "a#", false),
            (Access::Write, "sensors/1/temp", false),
        ];
        for (access, topic, want) in cases {
            assert_eq!(p.allows(access, topic), want, "{access:?} {topic:?}");
        }
        let s = |f: &str| Selector::subscription(f.to_owned(), 8).expect(f);
        assert!(p.covers(Access::Read, &s("sensors/+/temp")));
        assert!(p.covers(Access::Read, &s("sensors/7/temp")));
        assert!(p.covers(Access::Read, &s("x")));
        assert!(!p.covers(Access::Read, &s("sensors/#")));
        assert!(!p.covers(Access::Read, &s("a/#")));
        assert!(p.covers(Access::Write, &s("logs/+/#")));
        assert!(!p.covers(Access::Write, &s("#")));
        assert!(!p.covers(Access::Write, &s("$SYS/+")));
    }

    #[test]
    fn a_selector_not_covered_is_forbidden_naming_the_access_and_topic() {
        let p = Principal {
            read: claims(&["a/+"]),
            ..Principal::default()
        };
        let s = |f: &str| Selector::subscription(f.to_owned(), 8).expect(f);
        assert_eq!(p.check(Access::Read, &s("a/b")), Ok(()));
        assert_eq!(
            p.check(Access::Read, &s("a/#")),
            Err(Error::Forbidden {
                access: "read",
                topic: "a/#".into()
            })
        );
        let err = p
            .check(Access::Write, &s("a/b"))
            .expect_err("no write claim");
        assert_eq!(err.status().as_u16(), 403);
        let name = TopicName::parse("a/b").expect("a name");
        assert_eq!(p.check_topic(Access::Read, &name), Ok(()));
        assert!(p.check_topic(Access::Write, &name).is_err());
    }
}
