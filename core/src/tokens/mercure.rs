//! Mercure token verification, both dialects ([`crate::claims::mercure`]), with the keys
//! of KV store `keys` and the JWT machinery of the broker ([`crate::jwt`]).
//!
//! - The key: the header's `kid`, or [`MercureTokenRules::default_kid`] when the header
//!   has none (Mercure's own examples sign without `kid`); neither refuses the token. The
//!   algorithm is the key's (HS256, ES256 or EdDSA); `alg: none` and any other `alg`
//!   are refused. Key material in the token (`jwk`, `jku`, `x5u`, `x5c`) is never used:
//!   those header members are ignored, so a token signed with its own embedded key fails
//!   the signature check. A header with `crit` is refused.
//! - The dialect: a `typ` of `at+jwt` (or `application/at+jwt`, any case) is a 1.0 token;
//!   anything else is a 0.x token. Each needs its dialect switched on in the rules.
//! - 1.0: `iss` must be one of [`MercureTokenRules::issuers`] (exactly), `aud` must
//!   contain [`MercureTokenRules::audience`], `exp` is required. Keys are not bound to
//!   issuers in the key store: every trusted issuer may use every stored key (the
//!   draft's per-issuer key sets are not supported).
//! - Both: `exp` and `nbf` are honoured with [`LEEWAY_SECS`] of skew.
//!
//! Every refusal is an [`Error::InvalidToken`] (401) whose text names the check, except
//! an unknown key (`UnknownKey`, 401) and a store failure (503).

use crate::claims::mercure::{
    audience_contains, is_access_token_typ, MercureGrants, V0Claims, V1Claims,
};
use crate::claims::refusal;
use crate::jwt;
use crate::keys;
use crate::ports::KvStore;
use crate::principal::LEEWAY_SECS;
use crate::Error;

/// What the hub accepts of Mercure tokens (built by the hub from its configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MercureTokenRules {
    /// The key of tokens without `kid`; `None` refuses them.
    pub default_kid: Option<String>,
    /// The trusted issuers of 1.0 tokens (`iss`, compared exactly).
    pub issuers: Vec<String>,
    /// The hub's resource identifier, required in a 1.0 token's `aud`; `None` refuses
    /// every 1.0 token.
    pub audience: Option<String>,
    /// Whether 0.x tokens (the `mercure` claim) are accepted.
    pub allow_v0: bool,
    /// Whether 1.0 tokens (`at+jwt`) are accepted.
    pub allow_v1: bool,
    /// The hub's URL, against which relative URL patterns of 1.0 tokens resolve; without
    /// it a relative pattern refuses the token.
    pub base: Option<String>,
}

fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidToken(why.into())
}

/// Verifies a Mercure `token` at time `now` under `rules`, with the keys in `kv`.
pub fn verify_mercure(
    token: &str,
    kv: &dyn KvStore,
    now: u64,
    rules: &MercureTokenRules,
) -> Result<MercureGrants, Error> {
    let parsed = jwt::parse(token).map_err(|e| invalid(format!("malformed JWT ({e})")))?;
    let v1 = is_access_token_typ(parsed.typ.as_deref());
    match (v1, rules.allow_v0, rules.allow_v1) {
        (true, _, false) => {
            return Err(invalid("Mercure 1.0 tokens (typ at+jwt) are not accepted"))
        }
        (false, false, _) => {
            return Err(invalid(format!(
            "the JWT header's typ is {:?}, not \"at+jwt\" (Mercure 0.x tokens are not accepted)",
            parsed.typ.as_deref().unwrap_or("")
        )))
        }
        _ => {}
    }
    let kid = match (&parsed.kid, &rules.default_kid) {
        (Some(kid), _) => kid.clone(),
        (None, Some(default)) => default.clone(),
        (None, None) => {
            return Err(invalid(
                "the JWT header has no `kid` and no default Mercure key is configured",
            ))
        }
    };
    let key = keys::verifying_key_for(kv, &kid)?;
    let (grants, nbf) = if v1 {
        let payload: serde_json::Value = parsed.claims(&key).map_err(|why| refusal(&kid, why))?;
        let claims = V1Claims::from_value(&payload).map_err(|why| refusal(&kid, why))?;
        check_v1(&claims, rules)?;
        let nbf = claims.nbf;
        let grants = claims
            .into_grants(kid, rules.base.as_deref())
            .map_err(invalid)?;
        (grants, nbf)
    } else {
        let payload: serde_json::Value = parsed.claims(&key).map_err(|why| refusal(&kid, why))?;
        let claims = V0Claims::from_value(&payload).map_err(|why| refusal(&kid, why))?;
        let nbf = claims.nbf;
        (claims.into_grants(kid).map_err(invalid)?, nbf)
    };
    if grants
        .exp
        .is_some_and(|exp| exp.saturating_add(LEEWAY_SECS) < now)
    {
        return Err(invalid(crate::tokens::EXPIRED));
    }
    if nbf.is_some_and(|nbf| now.saturating_add(LEEWAY_SECS) < nbf) {
        return Err(invalid("the token is not valid yet (nbf)"));
    }
    Ok(grants)
}

fn check_v1(claims: &V1Claims, rules: &MercureTokenRules) -> Result<(), Error> {
    let iss = claims
        .iss
        .as_deref()
        .ok_or_else(|| invalid("the 1.0 token has no `iss`"))?;
    if !rules.issuers.iter().any(|i| i == iss) {
        return Err(invalid(format!(
            "issuer {iss:?} is not trusted by this hub"
        )));
    }
    let audience = rules
        .audience
        .as_deref()
        .ok_or_else(|| invalid("this hub has no resource identifier for `aud` configured"))?;
    match &claims.aud {
        None => return Err(invalid("the 1.0 token has no `aud`")),
        Some(aud) if !audience_contains(aud, audience) => {
            return Err(invalid(format!(
                "the token's `aud` does not contain this hub's resource identifier {audience:?}"
            )))
        }
        Some(_) => {}
    }
    if claims.exp.is_none() {
        return Err(invalid("the 1.0 token has no `exp`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
