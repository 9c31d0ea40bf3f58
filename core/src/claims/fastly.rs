//! The claims of Fastly's Pub/Sub app: `x-fastly-read` and `x-fastly-write` (arrays of
//! topic names or MQTT topic filters), `exp`, `nbf` and `sub`; any other member is
//! ignored. A member of the wrong type refuses the token (with the member's name, see
//! [`crate::jwt`]); a topic claim that is neither a name nor a filter is dropped, so it
//! grants nothing and the others stay in force.

use serde::Deserialize;

use crate::principal::Principal;
use crate::topic::Selector;

/// The payload of a Fastly-dialect token, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// Topics (names or filters) the bearer may subscribe to.
    #[serde(rename = "x-fastly-read", default)]
    pub read: Vec<String>,
    /// Topics (names or filters) the bearer may publish to.
    #[serde(rename = "x-fastly-write", default)]
    pub write: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Not-before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// The subject.
    #[serde(default)]
    pub sub: Option<String>,
}

impl Claims {
    /// The principal these claims make, for a token verified by key `kid`.
    pub fn into_principal(self, kid: String) -> Principal {
        Principal {
            read: selectors(self.read),
            write: selectors(self.write),
            exp: self.exp,
            nbf: self.nbf,
            sub: self.sub,
            kid,
        }
    }
}

fn selectors(claims: Vec<String>) -> Vec<Selector> {
    claims
        .into_iter()
        .filter_map(|claim| Selector::claim(claim).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Access;

    #[test]
    fn claims_become_selectors_and_malformed_ones_are_dropped() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "x-fastly-read": ["a", "s/+/t", "a#", ""],
            "x-fastly-write": ["b"],
            "exp": 10, "sub": "me", "other": true,
        }))
        .expect("claims");
        let p = claims.into_principal("k1".into());
        let read: Vec<&str> = p.read.iter().map(Selector::as_str).collect();
        assert_eq!(read, ["a", "s/+/t"]);
        assert!(p.allows(Access::Write, "b") && !p.allows(Access::Read, "b"));
        assert!(p.allows(Access::Read, "s/x/t"));
        assert_eq!(
            (p.exp, p.sub.as_deref(), p.kid.as_str()),
            (Some(10), Some("me"), "k1")
        );
    }
}
