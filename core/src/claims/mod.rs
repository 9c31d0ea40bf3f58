//! Token claims, read per dialect into one [`Principal`] of selectors.
//!
//! A verified token's payload names what its bearer may read and write in the words of
//! whoever issued it. Each dialect is a module that deserializes its own claim names and
//! parses every topic claim once into a [`Selector`](crate::topic::Selector) (dropping a
//! claim that is neither a topic name nor a filter: it grants nothing), so the rest of
//! the broker sees one `Principal` whatever the dialect:
//!
//! - [`fastly`]: `x-fastly-read` / `x-fastly-write`, the claims of Fastly's Pub/Sub app.
//! - [`mercure`]: the two Mercure dialects (0.x `mercure.publish` / `mercure.subscribe`,
//!   1.0 `authorization_details`), read into [`mercure::MercureGrants`] of URI selectors
//!   rather than a `Principal`: Mercure topics are URIs, not MQTT topic names.
//!
//! Only the claims' shape is read here: the signature, `alg`, `exp` and `nbf` are checked
//! by [`crate::tokens`].

pub mod fastly;
pub mod mercure;

use crate::jwt::{Token, VerifyingKey};
use crate::principal::Principal;

/// The principal `token` stands for, once its signature verifies under `key` (of key id
/// `kid`); `Err` says why not, in [`Token::claims`]'s words.
pub fn read(token: &Token<'_>, key: &VerifyingKey, kid: String) -> Result<Principal, String> {
    let claims: fastly::Claims = token.claims(key)?;
    Ok(claims.into_principal(kid))
}

/// The refusal of a token whose claims did not verify under key `kid`, in
/// [`Token::claims`]'s words (an `alg` mismatch names the key).
pub(crate) fn refusal(kid: &str, why: String) -> crate::Error {
    crate::Error::InvalidToken(match why.strip_prefix("the key only verifies") {
        Some(rest) => format!("key {kid:?} only verifies{rest}"),
        None => why,
    })
}
