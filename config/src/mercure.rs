//! The syntax of Config Store key `mercure`: the Mercure hub's settings, one key.
//!
//! Clauses separated by `;`, each a word and its arguments separated by spaces:
//!
//! ```text
//! on; anonymous; issuers https://a.example https://b.example; audience https://hub.example;
//! default-kid dev; dialects v0 v1; subscriptions-api
//! ```
//!
//! - `on`: the hub answers at `/.well-known/mercure` (absent: the hub is off, 404).
//! - `anonymous`: subscribers without a token receive public updates.
//! - `issuers I…`: the trusted issuers of 1.0 tokens (`iss`, compared exactly).
//! - `audience A`: the hub's resource identifier, required in a 1.0 token's `aud`.
//! - `default-kid K`: the key of tokens without `kid` (absent: such tokens are refused).
//! - `dialects v0 v1`: the token dialects accepted (default both).
//! - `subscriptions-api`: the active-subscriptions API and subscription events.
//!
//! A clause given twice, an unknown word or a missing argument is an error naming it.

/// What `mercure` accepts.
pub const EXPECTED: &str = "`;`-separated clauses: on, anonymous, issuers I.., audience A, \
default-kid K, dialects v0|v1.., subscriptions-api (each at most once)";

/// The Mercure hub's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mercure {
    /// The hub is served.
    pub on: bool,
    /// Subscribers without a token receive public updates.
    pub anonymous: bool,
    /// The trusted issuers of 1.0 tokens.
    pub issuers: Vec<String>,
    /// The hub's resource identifier (a 1.0 token's `aud`).
    pub audience: Option<String>,
    /// The key of tokens without `kid`.
    pub default_kid: Option<String>,
    /// 0.x tokens (the `mercure` claim) are accepted.
    pub allow_v0: bool,
    /// 1.0 tokens (`typ: at+jwt`) are accepted.
    pub allow_v1: bool,
    /// The subscriptions API and subscription events are on.
    pub subscriptions_api: bool,
}

/// The Config Store key.
pub const KEY: &str = "mercure";

/// Reads key `mercure`: `None` when absent (the hub is off).
pub(crate) fn load(
    lookup: &mut impl FnMut(&str) -> Option<String>,
) -> Result<Option<Mercure>, crate::ConfigError> {
    let Some(value) = lookup(KEY) else {
        return Ok(None);
    };
    parse(&value).map(Some).map_err(|why| crate::ConfigError {
        key: KEY,
        value: format!("{value} ({why})"),
        expected: EXPECTED,
    })
}

/// Parses the value of `mercure`; the error says which clause is wrong.
pub fn parse(value: &str) -> Result<Mercure, String> {
    let mut m = Mercure::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut dialects = None;
    for clause in value.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let mut words = clause.split_whitespace();
        let word = words.next().unwrap_or_default();
        let args: Vec<&str> = words.collect();
        if seen.contains(&word) {
            return Err(format!("clause `{word}` given twice"));
        }
        seen.push(word);
        let one = |args: &[&str]| match args {
            [a] => Ok((*a).to_owned()),
            _ => Err(format!("`{word}` takes exactly one argument")),
        };
        let none = |args: &[&str]| match args {
            [] => Ok(true),
            _ => Err(format!("`{word}` takes no argument")),
        };
        match word {
            "on" => m.on = none(&args)?,
            "anonymous" => m.anonymous = none(&args)?,
            "subscriptions-api" => m.subscriptions_api = none(&args)?,
            "audience" => m.audience = Some(one(&args)?),
            "default-kid" => m.default_kid = Some(one(&args)?),
            "issuers" if !args.is_empty() => {
                m.issuers = args.iter().map(|s| (*s).to_owned()).collect();
            }
            "dialects" => dialects = Some(parse_dialects(&args)?),
            _ => return Err(format!("unknown clause or missing arguments: `{clause}`")),
        }
    }
    (m.allow_v0, m.allow_v1) = dialects.unwrap_or((true, true));
    Ok(m)
}

fn parse_dialects(args: &[&str]) -> Result<(bool, bool), String> {
    let (mut v0, mut v1) = (false, false);
    for a in args {
        match *a {
            "v0" => v0 = true,
            "v1" => v1 = true,
            other => return Err(format!("unknown dialect `{other}` (v0 or v1)")),
        }
    }
    if !(v0 || v1) {
        return Err("`dialects` needs v0, v1 or both".to_owned());
    }
    Ok((v0, v1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_off_with_both_dialects() {
        let m = parse("").expect("empty");
        assert!(!m.on && !m.anonymous && !m.subscriptions_api);
        assert!(m.allow_v0 && m.allow_v1);
    }

    #[test]
    fn every_clause_is_read() {
        let m = parse(
            "on; anonymous; issuers https://a https://b; audience https://hub; \
             default-kid dev; dialects v1; subscriptions-api",
        )
        .expect("valid");
        assert!(m.on && m.anonymous && m.subscriptions_api);
        assert_eq!(m.issuers, ["https://a", "https://b"]);
        assert_eq!(m.audience.as_deref(), Some("https://hub"));
        assert_eq!(m.default_kid.as_deref(), Some("dev"));
        assert!(!m.allow_v0 && m.allow_v1);
    }

    #[test]
    fn bad_values_name_the_clause() {
        let cases = [
            ("on; on", "twice"),
            ("of", "`of`"),
            ("on x", "no argument"),
            ("audience", "exactly one"),
            ("audience a b", "exactly one"),
            ("issuers", "missing arguments"),
            ("dialects v2", "`v2`"),
            ("dialects", "needs"),
        ];
        for (value, part) in cases {
            let err = parse(value).expect_err(value);
            assert!(err.contains(part), "{value}: {err}");
        }
    }
}
